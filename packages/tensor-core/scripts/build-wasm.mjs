// Compiles assembly/index.ts (AssemblyScript) into dist/wasm/fathom.wasm, the
// WebAssembly SIMD module of the wasm backend. The module imports one shared
// memory (env.memory) and keeps no static data, so every worker thread can
// instantiate it over the same memory without re-initialising anything.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const { WebAssembly } = globalThis;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'wasm', 'fathom.wasm');
mkdirSync(dirname(out), { recursive: true });

const { error, stderr } = await asc.main(
  [
    join(root, 'assembly', 'index.ts'),
    '--outFile',
    out,
    '--optimizeLevel',
    '3',
    '--shrinkLevel',
    '0',
    '--noAssert',
    '--runtime',
    'stub',
    '--enable',
    'simd,threads',
    '--importMemory',
    '--sharedMemory',
    '--initialMemory',
    '1',
    '--maximumMemory',
    '65536',
    '--use',
    'abort=',
    // AS112: v128 in the signature of a non-entry export (the vector math helpers); the
    // module's own exports take only numbers.
    '--disableWarning',
    '112',
  ],
  { stderr: process.stderr, stdout: process.stdout },
);
if (error) {
  console.error(`build-wasm: AssemblyScript failed: ${error.message}\n${stderr.toString()}`);
  process.exit(1);
}
// The backend relies on the module carrying no data segment (see above).
const bytes = readFileSync(out);
const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
if (!imports.some((s) => s.module === 'env' && s.name === 'memory' && s.kind === 'memory')) {
  console.error('build-wasm: the module does not import env.memory');
  process.exit(1);
}
for (let at = 8; at < bytes.length;) {
  const id = bytes[at++];
  let size = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++];
    size |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  if (id === 11 && bytes[at] !== 0) {
    console.error('build-wasm: the module has a data segment; it must keep no static data');
    process.exit(1);
  }
  at += size;
}
console.log(`build-wasm: wrote ${out} (${bytes.length} bytes)`);
