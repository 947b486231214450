import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from './device.js';
import { executeInPlace } from './execute.js';
import { noGrad } from './autograd/grad-mode.js';
import { scope } from './memory/scope.js';
import * as ops from './ops/index.js';
import type { Tensor } from './tensor.js';
import { openTestDevices, rng, uniformValues, type TestDevices } from './test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/**
 * Trains a 2-16-16-1 MLP with plain SGD (written here) to fit y = sin(3·x₁)·x₂ on a
 * fixed synthetic set, and returns the loss curve.
 */
async function train(
  device: Device,
  steps: number,
): Promise<{ losses: number[]; liveDelta: number }> {
  const rand = rng(42);
  const n = 64;
  const xs = uniformValues(rand, n * 2, -1, 1);
  const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(3 * xs[2 * i]!) * xs[2 * i + 1]!);
  const x = ops.fromArray(xs, [n, 2], { device });
  const y = ops.fromArray(ys, [n, 1], { device });
  const init = (shape: number[], scale: number): Tensor =>
    ops.fromArray(uniformValues(rand, shape[0]! * (shape[1] ?? 1), -scale, scale), shape, {
      device,
      requiresGrad: true,
    });
  const params = [
    init([2, 16], 1),
    init([16], 0.1),
    init([16, 16], 0.5),
    init([16], 0.1),
    init([16, 1], 0.5),
    init([1], 0.1),
  ];
  const [w1, b1, w2, b2, w3, b3] = params as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const losses: number[] = [];
  let live = 0;
  for (let step = 0; step < steps; step++) {
    const loss = await scope(async () => {
      const h1 = ops.tanh(ops.add(ops.matmul(x, w1), b1));
      const h2 = ops.tanh(ops.add(ops.matmul(h1, w2), b2));
      const out = ops.add(ops.matmul(h2, w3), b3);
      const l = ops.mean(ops.square(ops.sub(out, y)));
      l.backward();
      noGrad(() => {
        for (const p of params) {
          executeInPlace('copy', [ops.sub(p, ops.mul(p.grad!, 0.2))], [p], {});
          p.setGrad(null);
        }
      });
      return l.item();
    });
    losses.push(loss);
    if (step === 0) live = device.memory().liveTensors;
  }
  return { losses, liveDelta: device.memory().liveTensors - live };
}

describe('end to end: an MLP trained with SGD', () => {
  it('reaches the loss threshold on both backends, with close loss curves and no leaks', async () => {
    const gpu = await train(d.gpu, 150);
    const ref = await train(d.ref, 150);
    expect(gpu.liveDelta).toBe(0);
    expect(ref.liveDelta).toBe(0);
    expect(ref.losses[0]).toBeGreaterThan(0.1);
    expect(ref.losses.at(-1)!).toBeLessThan(0.02);
    expect(gpu.losses.at(-1)!).toBeLessThan(0.02);
    // f32 on the GPU against float64: the curves agree closely throughout.
    gpu.losses.forEach((l, i) =>
      expect(Math.abs(l - ref.losses[i]!), `step ${i}`).toBeLessThan(1e-3 + 1e-2 * ref.losses[i]!),
    );
  });
});
