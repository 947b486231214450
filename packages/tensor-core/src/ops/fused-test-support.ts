/** Shared helpers of the fused-op tests: run a function on WebGPU and the float64 reference, compare outputs and gradients. */
import { expect } from 'vitest';
import type { Device } from '../device.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import { expectClose, rng, uniformValues, values, type TestDevices } from '../test-utils/index.js';
import * as ops from './index.js';

const sizeOf = (s: readonly number[]): number => s.reduce((n, v) => n * v, 1);

/** Output and input gradients (of sum(out · fixed weights)) of `fn` on `device`. */
async function outputsAndGrads(
  device: Device,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: number[][],
  shapes: number[][],
  weights: number[],
): Promise<{ out: number[]; shape: number[]; grads: number[][] }> {
  return scope(async () => {
    const xs = inputs.map((v, i) => ops.fromArray(v, shapes[i]!, { device, requiresGrad: true }));
    const y = fn(...xs);
    const w = ops.fromArray(weights.slice(0, y.size), [...y.shape], { device });
    ops.sum(ops.mul(y, w)).backward();
    const grads: number[][] = [];
    for (const x of xs) grads.push(await values(x.grad!));
    return { out: await values(y), shape: [...y.shape], grads };
  });
}

/** Compares `fn` (outputs and every input gradient) on WebGPU against the float64 reference. */
export async function compareWithGrads(
  d: TestDevices,
  fn: (...xs: Tensor[]) => Tensor,
  shapes: number[][],
  seed: number,
  tol = { atol: 2e-4, rtol: 2e-4 },
): Promise<void> {
  const rand = rng(seed);
  const inputs = shapes.map((s) => Array.from(uniformValues(rand, sizeOf(s))));
  const weights = Array.from(uniformValues(rand, 1 << 16, 0.5, 1.5));
  const g = await outputsAndGrads(d.gpu, fn, inputs, shapes, weights);
  const r = await outputsAndGrads(d.ref, fn, inputs, shapes, weights);
  expect(g.shape).toEqual(r.shape);
  expectClose(g.out, r.out, tol, `output ${JSON.stringify(shapes)}`);
  g.grads.forEach((gr, i) => expectClose(gr, r.grads[i]!, tol, `gradient of input ${i}`));
}

/** Compares `fused` against `unfused` on the float64 reference (outputs and gradients). */
export async function compareFusedToComposition(
  ref: Device,
  fused: (...xs: Tensor[]) => Tensor,
  unfused: (...xs: Tensor[]) => Tensor,
  shapes: number[][],
  seed: number,
): Promise<void> {
  const rand = rng(seed);
  const inputs = shapes.map((s) => Array.from(uniformValues(rand, sizeOf(s))));
  const weights = Array.from(uniformValues(rand, 1 << 16, 0.5, 1.5));
  const a = await outputsAndGrads(ref, fused, inputs, shapes, weights);
  const b = await outputsAndGrads(ref, unfused, inputs, shapes, weights);
  expect(a.shape).toEqual(b.shape);
  const tol = { atol: 1e-10, rtol: 1e-9 };
  expectClose(a.out, b.out, tol, 'output vs composition');
  a.grads.forEach((gr, i) => expectClose(gr, b.grads[i]!, tol, `gradient ${i} vs composition`));
}
