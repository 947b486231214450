import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Device,
  type Tensor,
  add,
  fromArray,
  mean,
  mul,
  square,
  sub,
  sum,
} from '@fathom/tensor-core';
import {
  TOLERANCE,
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '@fathom/tensor-core/testing';
import { AdamW, GradientAccumulator } from './index.js';
import { param } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const D = 5;
const MICRO = 3; // N, not a power of two, so 1/N rounds
const B = 4; // micro-batch size

/** Mean squared error of a linear model y = x·w + b (mul and sum only). */
function loss(device: Device, w: Tensor, b: Tensor, xs: Float64Array, ts: Float64Array): Tensor {
  const rows = ts.length;
  const x = fromArray(xs, [rows, D], { device });
  const t = fromArray(ts, [rows], { device });
  const y = add(sum(mul(x, w), { axis: 1 }), b);
  const diff = sub(y, t);
  const sq = square(diff);
  const l = mean(sq);
  [x, t, y, diff, sq].forEach((z) => z.dispose());
  return l;
}

interface Result {
  grads: number[][];
  params: number[][];
}

async function train(device: Device, microBatches: number): Promise<Result> {
  const rand = rng(77);
  const xs = uniformValues(rand, MICRO * B * D);
  const ts = uniformValues(rand, MICRO * B);
  const w = param(device, uniformValues(rand, D), [D]);
  const b = param(device, [0.1], [1]);
  const opt = new AdamW([w, b], { lr: 0.1, weightDecay: 0.01 });
  const acc = new GradientAccumulator(microBatches);
  const rows = (MICRO * B) / microBatches;
  for (let i = 0; i < microBatches; i++) {
    const l = loss(
      device,
      w,
      b,
      xs.subarray(i * rows * D, (i + 1) * rows * D),
      ts.subarray(i * rows, (i + 1) * rows),
    );
    const ready = acc.backward(l);
    l.dispose();
    expect(ready).toBe(i === microBatches - 1);
  }
  const grads = await Promise.all([w, b].map(async (p) => Array.from(await p.grad!.toArray())));
  await acc.step(opt);
  expect(w.grad).toBeNull();
  const params = await Promise.all([w, b].map(async (p) => Array.from(await p.toArray())));
  opt.dispose();
  [w, b].forEach((p) => p.dispose());
  return { grads, params };
}

describe('GradientAccumulator', () => {
  for (const device of ['ref', 'gpu'] as const) {
    it(`N micro-batches of size b give the step of one batch of size N·b (${device})`, async () => {
      const whole = await train(d[device], 1);
      const split = await train(d[device], MICRO);
      const tol = device === 'ref' ? { atol: 1e-14, rtol: 1e-12 } : TOLERANCE.f32;
      whole.grads.forEach((g, k) => expectClose(split.grads[k]!, g, tol, `grad ${k}`));
      whole.params.forEach((p, k) => expectClose(split.params[k]!, p, tol, `param ${k}`));
      // Without the 1/N loss scale the gradients would be N times larger.
      expect(Math.abs(split.grads[0]![0]!)).toBeLessThan(1.5 * Math.abs(whole.grads[0]![0]!));
    });
  }

  it('scales the loss by 1/N and refuses to overfill or step early', async () => {
    const acc = new GradientAccumulator(2);
    expect(acc.lossScale).toBe(0.5);
    const p = param(d.ref, [1, 2], [2]);
    const opt = new AdamW([p]);
    await expect(acc.step(opt)).rejects.toThrow(
      'GradientAccumulator.step: holds 0 of 2 micro-batches; expected all of them',
    );
    for (let i = 0; i < 2; i++) {
      const l = sum(mul(p, 4));
      acc.backward(l);
      l.dispose();
    }
    expect(Array.from(await p.grad!.toArray())).toEqual([4, 4]); // mean of two gradients of 4
    const l = sum(p);
    expect(() => acc.backward(l)).toThrow(
      'already holds 2 micro-batches; call step() before adding more',
    );
    l.dispose();
    expect(() => new GradientAccumulator(0)).toThrow(
      'GradientAccumulator: microBatches is 0; expected an integer >= 1',
    );
    opt.dispose();
    p.dispose();
  });
});
