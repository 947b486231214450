/**
 * Loading the wasm backend's compiled module (`dist/wasm/fathom.wasm`, built from
 * `assembly/` by `scripts/build-wasm.mjs` in the package's `build` script).
 */
import { readFile } from 'node:fs/promises';
import { type WasmGlobal, type WasmModule, webAssembly } from './webassembly.js';

/** The kernels the module exports (pointers are byte addresses in the shared memory). */
export interface WasmKernelExports {
  readonly WORK_BYTES: WasmGlobal;
  readonly [name: string]: unknown;
}

/** Exported kernel names, in the order worker threads index them. */
export const KERNEL_NAMES = [
  'matmul_f32',
  'unary_f32',
  'unary_grad_f32',
  'binary_f32',
  'copy32',
  'reduce_f32',
  'softmax_f32',
  'softmax_grad_f32',
  'norm_f32',
  'norm_grad_input_f32',
  'norm_grad_params_f32',
  'cross_entropy_f32',
  'cross_entropy_grad_f32',
] as const;

/** One of {@link KERNEL_NAMES}. */
export type KernelName = (typeof KERNEL_NAMES)[number];

// From dist/backends/wasm/ the module is ../../wasm/; from src/backends/wasm/ (tests
// run on the sources) it is the built copy under ../../../dist/wasm/.
const CANDIDATES = ['../../wasm/fathom.wasm', '../../../dist/wasm/fathom.wasm'];

let compiled: Promise<WasmModule> | null = null;

async function compile(): Promise<WasmModule> {
  const tried: string[] = [];
  for (const rel of CANDIDATES) {
    const url = new URL(rel, import.meta.url);
    let bytes: Buffer;
    try {
      bytes = await readFile(url);
    } catch {
      tried.push(url.pathname);
      continue;
    }
    return webAssembly.compile(bytes);
  }
  throw new Error(
    `wasm backend: the compiled module fathom.wasm was not found (looked at ${tried.join(', ')}); ` +
      'build it with `pnpm --filter @fathom/tensor-core build`',
  );
}

/** The compiled module, compiled once per process. */
export function loadWasmModule(): Promise<WasmModule> {
  compiled ??= compile().catch((e: unknown) => {
    compiled = null;
    throw e;
  });
  return compiled;
}
