/**
 * The wasm backend against TensorFlow.js's WASM backend (XNNPACK, SIMD) in the same
 * process, with numpy/OpenBLAS (python3, when present) as the roof on these cores.
 * Figures are best-of-N on whatever else the machine runs. Prints a table; run with `node --import tsx bench/wasm.ts` (`--quick` for fewer repeats).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfw from '@tensorflow/tfjs-backend-wasm';
import { Device } from '../src/device.js';
import { scope } from '../src/memory/scope.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 3 : 7;
const N = 1024;
const FLOPS = 2 * N ** 3;

/**
 * Fastest of REPEATS runs after two warm-ups (which also let V8 tier the wasm code up):
 * on a shared, loaded machine the minimum is the figure least disturbed by other processes.
 */
function time(fn: () => void): number {
  fn();
  fn();
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

interface Row {
  what: string;
  ms: number;
  gflops?: number;
}

function fathomRows(device: Device, label: string): Row[] {
  const a = ops.randn([N, N], { device });
  const b = ops.randn([N, N], { device });
  const x = ops.randn([2048, 1024], { device });
  const rows: Row[] = [];
  const mm = (opts: { transA?: boolean; transB?: boolean }, what: string) => {
    const ms = time(() => scope(() => void ops.matmul(a, b, opts)));
    rows.push({ what: `${label} matmul ${N}³ ${what}`, ms, gflops: FLOPS / ms / 1e6 });
  };
  mm({}, 'A·B');
  mm({ transB: true }, 'A·Bᵀ');
  mm({ transA: true }, 'Aᵀ·B');
  const unary = (what: string, fn: (t: Tensor) => Tensor) =>
    rows.push({ what: `${label} ${what} [2048,1024]`, ms: time(() => scope(() => void fn(x))) });
  unary('gelu(tanh)', (t) => ops.gelu(t, 'tanh'));
  unary('add row-broadcast', (t) => ops.add(t, ops.ones([1024], { device })));
  unary('softmax', (t) => ops.softmax(t));
  unary('layerNorm', (t) => ops.layerNorm(t));
  for (const t of [a, b, x]) t.dispose();
  return rows;
}

async function tfjsRows(): Promise<{ rows: Row[]; threads: number }> {
  const require = createRequire(import.meta.url);
  const dir = dirname(
    require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
  );
  tfw.setWasmPaths(`${dir}/`);
  tfw.setThreadsCount(2);
  await tf.setBackend('wasm');
  const threads = tfw.getThreadsCount();
  const a = tf.randomNormal([N, N]);
  const b = tf.randomNormal([N, N]);
  const x = tf.randomNormal([2048, 1024]);
  const ones = tf.ones([1024]);
  const rows: Row[] = [];
  const mm = (ta: boolean, tb: boolean, what: string) => {
    const ms = time(() => tf.tidy(() => void tf.matMul(a, b, ta, tb)));
    rows.push({ what: `tfjs-wasm matmul ${N}³ ${what}`, ms, gflops: FLOPS / ms / 1e6 });
  };
  mm(false, false, 'A·B');
  mm(false, true, 'A·Bᵀ');
  mm(true, false, 'Aᵀ·B');
  const unary = (what: string, fn: () => tf.Tensor) =>
    rows.push({ what: `tfjs-wasm ${what} [2048,1024]`, ms: time(() => tf.tidy(() => void fn())) });
  // tfjs-wasm has no tanh-GELU kernel: the composed form is what a model would run.
  unary('gelu(tanh)', () =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(0.7978845608, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
    ),
  );
  unary('add row-broadcast', () => tf.add(x, ones));
  unary('softmax', () => tf.softmax(x));
  tf.dispose([a, b, x, ones]);
  return { rows, threads };
}

function numpyRoof(): number | null {
  const code = `
import numpy as np, time
a = np.random.rand(${N}, ${N}).astype(np.float32); b = np.random.rand(${N}, ${N}).astype(np.float32)
a @ b
ts = []
for _ in range(${REPEATS}):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
print(min(ts) * 1e3)
`;
  try {
    return Number(execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

const threads = availableParallelism();
const all: Row[] = [];
const w1 = await Device.open({ backend: 'wasm', threads: 1 });
all.push(...fathomRows(w1, 'fathom-wasm 1t'));
w1.close();
const wN = await Device.open({ backend: 'wasm', threads });
all.push(...fathomRows(wN, `fathom-wasm ${threads}t`));
wN.close();
const peer = await tfjsRows();
all.push(...peer.rows);
const roofMs = numpyRoof();
if (roofMs !== null)
  all.push({ what: `numpy/OpenBLAS matmul ${N}³ A·B`, ms: roofMs, gflops: FLOPS / roofMs / 1e6 });

console.log(
  `wasm backend bench (${threads} cores; TF.js-WASM ran with ${peer.threads} thread(s); best of ${REPEATS}; load average ${loadavg()[0]!.toFixed(1)})`,
);
console.log('| what | ms | GFLOP/s |');
console.log('|---|---:|---:|');
for (const r of all)
  console.log(`| ${r.what} | ${r.ms.toFixed(2)} | ${r.gflops?.toFixed(1) ?? ''} |`);
const ours = all.find((r) => r.what === `fathom-wasm ${threads}t matmul ${N}³ A·B`)!;
const theirs = all.find((r) => r.what === `tfjs-wasm matmul ${N}³ A·B`)!;
console.log(
  `\nmatmul ${N}³ A·B: fathom-wasm ${threads}t / tfjs-wasm = ${(theirs.ms / ours.ms).toFixed(2)}×`,
);
for (const what of ['A·Bᵀ', 'Aᵀ·B']) {
  const o = all.find((r) => r.what === `fathom-wasm ${threads}t matmul ${N}³ ${what}`)!;
  const t = all.find((r) => r.what === `tfjs-wasm matmul ${N}³ ${what}`)!;
  console.log(
    `matmul ${N}³ ${what}: fathom-wasm ${threads}t / tfjs-wasm = ${(t.ms / o.ms).toFixed(2)}×`,
  );
}
if (roofMs !== null)
  console.log(`fraction of the numpy/OpenBLAS roof: ${(roofMs / ours.ms).toFixed(2)}`);
