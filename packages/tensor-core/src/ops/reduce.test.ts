import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from './index.js';
import type { Tensor } from '../tensor.js';
import {
  expectClose,
  gradCheck,
  onEach,
  openTestDevices,
  rng,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

type Reduce = (x: Tensor, o: ops.ReduceOptions) => Tensor;
const REDUCTIONS: Record<string, Reduce> = {
  sum: ops.sum,
  mean: ops.mean,
  max: ops.max,
  min: ops.min,
  prod: ops.prod,
};

const shapeAndAxes = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean(), fc.boolean()),
  );

describe('reductions over any axes match the float64 reference', () => {
  for (const [name, fn] of Object.entries(REDUCTIONS)) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeAndAxes,
          fc.integer(),
          async ([shape, axes, keepdim, transposed], seed) => {
            const n = shape.reduce((a, b) => a * b, 1);
            const vals = uniformValues(
              rng(seed),
              n,
              name === 'prod' ? 0.8 : -2,
              name === 'prod' ? 1.2 : 2,
            );
            const [g, r] = onEach([d.gpu, d.ref], vals, shape);
            // A transposed view exercises strided reads.
            const view = (t: Tensor): Tensor => (transposed && t.rank >= 2 ? ops.transpose(t) : t);
            const opts = { axis: axes.length === 0 ? undefined : axes, keepdim };
            const got = fn(view(g!), opts);
            const want = fn(view(r!), opts);
            expect(got.shape).toEqual(want.shape);
            expectClose(await values(got), await values(want), { atol: 1e-5, rtol: 1e-5 }, name);
          },
        ),
        { numRuns: 10 },
      );
    });
  }

  it('sums integers in i32, reduces empty axes to the identity, and rejects max over empty', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const [x] = onEach([dev], [1, 2, 3, 4, 5, 6], [2, 3], 'i32');
      const s = ops.sum(x!, { axis: 1 });
      expect(s.dtype).toBe('i32');
      expect(await values(s)).toEqual([6, 15]);
      const [e] = onEach([dev], [], [2, 0]);
      expect(await values(ops.sum(e!, { axis: 1 }))).toEqual([0, 0]);
      expect(() => ops.max(e!, { axis: 1 })).toThrow(
        /max: cannot reduce over an empty axis of shape \[2,0\]/,
      );
    }
  });

  it('sums a long vector accurately (one workgroup per output, tree in workgroup memory)', async () => {
    const n = 100_003;
    const vals = uniformValues(rng(5), n, 0, 1);
    const [g, r] = onEach([d.gpu, d.ref], vals, [n]);
    expectClose(
      await values(ops.sum(g!)),
      await values(ops.sum(r!)),
      { atol: 1e-2, rtol: 1e-5 },
      'long sum',
    );
  });
});

describe('reduction gradients', () => {
  for (const [name, fn] of Object.entries(REDUCTIONS)) {
    it(`${name}: finite differences, and WebGPU matches`, async () => {
      const vals = Array.from(uniformValues(rng(name.length), 12, 0.5, 1.5));
      await gradCheck(d.ref, (x) => fn(x, { axis: [0, 2], keepdim: false }), [
        { values: vals, shape: [2, 3, 2] },
      ]);
      const [g, r] = onEach([d.gpu, d.ref], vals, [2, 3, 2], 'f32', true);
      ops.sum(ops.mul(fn(g!, { axis: 1 }), 3)).backward();
      ops.sum(ops.mul(fn(r!, { axis: 1 }), 3)).backward();
      expectClose(await values(g!.grad!), await values(r!.grad!), { atol: 1e-5, rtol: 1e-4 }, name);
    });
  }

  it('max shares the gradient among ties', async () => {
    const [x] = onEach([d.ref], [1, 3, 3, 2], [4], 'f32', true);
    ops.max(x!).backward();
    expect(await values(x!.grad!)).toEqual([0, 0.5, 0.5, 0]);
  });
});
