/**
 * Fused AdamW (one `adamw_step` dispatch per tensor) against the same update
 * written as a chain of tensor-core elementwise ops, on a 10M-parameter model
 * (10 tensors of 1M), plus global-norm clipping of the same gradients.
 * Run: `node --import tsx bench/run.ts` (WebGPU; lavapipe when that is the adapter).
 */
import {
  Device,
  type Tensor,
  add,
  div,
  fromArray,
  keep,
  mul,
  scope,
  slice,
  sqrt,
  sub,
  zerosLike,
} from '@fathom/tensor-core';
import { AdamW, clipGradNorm } from '../src/index.js';

const TENSORS = 10;
const SIZE = 1 << 20;
const WARMUP = 2;
const STEPS = 5;

function pattern(seed: number): Float32Array {
  const out = new Float32Array(SIZE);
  let s = seed >>> 0;
  for (let i = 0; i < SIZE; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Waits for the device by reading one element of a tensor. */
async function sync(t: Tensor): Promise<void> {
  await scope(() => slice(t, [{ start: 0, end: 1 }]).toArray());
}

async function time(run: () => Promise<void> | void, wait: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await run();
  await wait();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await run();
  await wait();
  return (performance.now() - t0) / STEPS;
}

const device = await Device.open({ backend: 'webgpu' });
const params = Array.from({ length: TENSORS }, (_, k) =>
  fromArray(pattern(k), [SIZE], { device, requiresGrad: true }),
);
params.forEach((p, k) => p.setGrad(fromArray(pattern(100 + k), [SIZE], { device })));

// Fused: the optimizer's kernel, one dispatch per tensor.
const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01 });
const fusedMs = await time(
  () => opt.step(),
  () => sync(params[0]!),
);

// Unfused: the same arithmetic as separate elementwise ops, each writing a new tensor.
const lr = 1e-3;
const wd = 0.01;
const [b1, b2, eps] = [0.9, 0.999, 1e-8];
let p = params.map((t) => keep(mul(t, 1)));
let m = p.map((t) => keep(zerosLike(t)));
let v = p.map((t) => keep(zerosLike(t)));
let t = 0;
const chainStep = (): void => {
  t += 1;
  const stepSize = lr / (1 - b1 ** t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const next = scope(() =>
    p.map((pk, k) => {
      const g = params[k]!.grad!;
      const decayed = mul(pk, 1 - lr * wd);
      const mk = add(mul(m[k]!, b1), mul(g, 1 - b1));
      const vk = add(mul(v[k]!, b2), mul(mul(g, g), 1 - b2));
      const denom = add(div(sqrt(vk), bc2Sqrt), eps);
      const pk2 = sub(decayed, mul(div(mk, denom), stepSize));
      return [pk2, mk, vk] as const;
    }),
  );
  for (const x of [...p, ...m, ...v]) x.dispose();
  p = next.map((x) => x[0]);
  m = next.map((x) => x[1]);
  v = next.map((x) => x[2]);
};
const chainMs = await time(chainStep, () => sync(p[0]!));

// Global-norm clipping of the 10M gradients (norms, total and scaling on the device).
const clipMs = await time(
  () => clipGradNorm(params, 1e9).dispose(),
  () => sync(params[0]!.grad!),
);

const bytes = TENSORS * SIZE * 4 * 7; // read g, p, m, v; write p, m, v
const rows: [string, number, number, string][] = [
  ['AdamW fused (adamw_step)', fusedMs, TENSORS, (fusedMs / fusedMs).toFixed(2)],
  // 14 elementwise ops per tensor, plus 8 fills for the scalar operands.
  ['AdamW as elementwise op chain', chainMs, TENSORS * 22, (chainMs / fusedMs).toFixed(2)],
  ['clipGradNorm (10M grads)', clipMs, 2 * TENSORS + 1, '-'],
];
console.log(`device: ${device.backend.description}`);
console.log(
  `model: ${TENSORS} tensors × ${SIZE} f32 = ${(TENSORS * SIZE) / 1e6}M parameters; ${STEPS} timed steps after ${WARMUP} warm-up`,
);
console.log('');
console.log(
  '| variant                        | ms/step | dispatches/step | effective GB/s | time vs fused |',
);
console.log(
  '| ------------------------------ | ------: | --------------: | -------------: | ------------: |',
);
for (const [name, ms, dispatches, ratio] of rows) {
  const gbs = name.startsWith('clip') ? '-' : (bytes / (ms / 1000) / 1e9).toFixed(2);
  console.log(
    `| ${name.padEnd(30)} | ${ms.toFixed(1).padStart(7)} | ${String(dispatches).padStart(15)} | ${gbs.padStart(14)} | ${ratio.padStart(13)} |`,
  );
}
console.log('');
console.log(
  'effective GB/s counts the 28 bytes/parameter an AdamW step must move (both rows), so the',
);
console.log("chain's figure shows the useful rate, not the traffic its intermediates add.");

opt.dispose();
for (const x of [...p, ...m, ...v, ...params]) x.dispose();
device.close();
