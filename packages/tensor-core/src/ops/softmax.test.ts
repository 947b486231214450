import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { roundToBf16, roundToF16 } from '../half.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import {
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
  TOLERANCE,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';
import * as ops from './index.js';
import { logSoftmax, softmax } from './softmax.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/** exp and a row sum in f32: relative error of a few ulps. */
const F32 = { atol: 1e-6, rtol: 1e-5 };
const sizeOf = (shape: readonly number[]): number => shape.reduce((n, v) => n * v, 1);

type RowFn = (x: Tensor, axis?: number) => Tensor;
const FNS: [string, RowFn][] = [
  ['softmax', softmax],
  ['logSoftmax', logSoftmax],
];

/** Runs `build` on the same input values on WebGPU and on the reference; compares. */
async function compare(
  shape: number[],
  build: (x: Tensor) => Tensor,
  vals: ArrayLike<number>,
  tol = F32,
  dtype: DType = 'f32',
): Promise<number[]> {
  const run = (device: Device): Promise<{ out: number[]; shape: number[] }> =>
    scope(async () => {
      const y = build(ops.fromArray(vals, shape, { device, dtype }));
      return { out: await values(y), shape: [...y.shape] };
    });
  const g = await run(d.gpu);
  const r = await run(d.ref);
  expect(g.shape).toEqual(r.shape);
  expectClose(g.out, r.out, tol, `shape ${JSON.stringify(shape)}`);
  return r.out;
}

describe('softmax reference kernel', () => {
  it('matches the definition along each axis of a 3-D tensor', async () => {
    const shape = [2, 3, 4];
    const vals = uniformValues(rng(1), 24, -3, 3);
    const at = (i: number, j: number, k: number): number => vals[i * 12 + j * 4 + k]!;
    for (let axis = 0; axis < 3; axis++) {
      const want: number[] = [];
      const ls: number[] = [];
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let k = 0; k < 4; k++) {
            const idx = [i, j, k];
            let total = 0;
            for (let t = 0; t < shape[axis]!; t++) {
              const o = [...idx];
              o[axis] = t;
              total += Math.exp(at(o[0]!, o[1]!, o[2]!));
            }
            want.push(Math.exp(at(i, j, k)) / total);
            ls.push(at(i, j, k) - Math.log(total));
          }
      await scope(async () => {
        const x = ops.fromArray(vals, shape, { device: d.ref });
        expectClose(await values(softmax(x, axis)), want, { atol: 1e-14, rtol: 1e-12 });
        expectClose(await values(logSoftmax(x, axis - 3)), ls, { atol: 1e-13, rtol: 1e-12 });
      });
    }
  });
});

describe('softmax and logSoftmax on WebGPU match the float64 reference', () => {
  for (const [name, fn] of FNS) {
    it(`${name}: odd sizes, long rows, every axis, size-1 and empty dims, scalars`, async () => {
      const rand = rng(name.length);
      const cases: [number[], number][] = [
        [[7, 33], -1],
        [[3, 1029], 1],
        [[4, 5, 6], 0],
        [[4, 5, 6], 1],
        [[1, 1], -1],
        [[5, 1], -1],
        [[0, 5], -1],
        [[5, 0], -1],
        [[], -1],
        [[9], 0],
      ];
      for (const [shape, axis] of cases) {
        await compare(shape, (x) => fn(x, axis), uniformValues(rand, sizeOf(shape), -4, 4));
      }
    });

    it(`${name}: transposed, sliced and broadcast views are read through their strides`, async () => {
      const rand = rng(name.length + 1);
      await compare([6, 9], (x) => fn(ops.transpose(x)), uniformValues(rand, 54, -4, 4));
      await compare(
        [6, 9],
        (x) => fn(ops.slice(x, [{ step: 2 }, { start: 1, step: 3 }]), 0),
        uniformValues(rand, 54, -4, 4),
      );
      await compare([1, 9], (x) => fn(ops.expand(x, [3, 9]), -1), uniformValues(rand, 9, -4, 4));
      await compare([3, 1], (x) => fn(ops.expand(x, [3, 9]), -1), uniformValues(rand, 3, -4, 4));
    });

    it(`${name}: stable for large inputs and -inf (masked) entries`, async () => {
      const big = [1000, 1001, 1002, -1000, 80, 90];
      const out = await compare([2, 3], (x) => fn(x), big);
      expect(out.every(Number.isFinite)).toBe(true);
      const ninf = -Infinity;
      const masked = await compare([2, 3], (x) => fn(x), [0.5, ninf, 1.5, ninf, ninf, 2]);
      if (name === 'softmax')
        expect([masked[1], masked[3], masked[4], masked[5]]).toEqual([0, 0, 0, 1]);
      else expect([masked[1], masked[3], masked[4], masked[5]]).toEqual([ninf, ninf, ninf, 0]);
    });

    it(`${name}: 16-bit inputs (f16, bf16) compute in f32 and round once`, async () => {
      const rand = rng(name.length + 2);
      const v16 = Array.from(uniformValues(rand, 5 * 37, -3, 3), roundToF16);
      await compare([5, 37], (x) => fn(x), v16, TOLERANCE.f16, 'f16');
      const vb = Array.from(uniformValues(rand, 5 * 37, -3, 3), roundToBf16);
      await compare([5, 37], (x) => fn(x, 0), vb, TOLERANCE.bf16, 'bf16');
    });
  }

  it('random shapes and axes (property)', async () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(
        shapes,
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async (shape, axisSeed, log, seed) => {
          const axis = (axisSeed % shape.length) - (axisSeed % 2 === 0 ? 0 : shape.length);
          const fn = log ? logSoftmax : softmax;
          await compare(shape, (x) => fn(x, axis), uniformValues(rng(seed), sizeOf(shape), -5, 5));
        },
      ),
      { numRuns: 15, seed: 3 },
    );
  });

  it('errors name the op and argument', () => {
    scope(() => {
      const x = ops.zeros([2, 3], { device: d.ref, dtype: 'i32' });
      expect(() => softmax(x)).toThrow('softmax: x has dtype i32; expected f32, f16 or bf16');
      expect(() => logSoftmax(ops.zeros([2, 3], { device: d.ref }), 2)).toThrow(
        /logSoftmax: axis 2 is out of range for a tensor of rank 2/,
      );
    });
  });
});

describe('softmax and logSoftmax backward (fused softmax_grad, log_softmax_grad)', () => {
  for (const [name, fn] of FNS) {
    for (const axis of [-1, 0, 1]) {
      it(`${name}, axis ${axis}: finite differences on the reference, and WebGPU matches`, async () => {
        const shape = [3, 4, 5];
        const vals = Array.from(uniformValues(rng(axis + 10), sizeOf(shape), -2, 2));
        await gradCheck(d.ref, (x) => fn(x, axis), [{ values: vals, shape }], {
          atol: 1e-7,
          rtol: 1e-5,
        });
        const grads = await Promise.all(
          [d.gpu, d.ref].map((device) =>
            scope(async () => {
              const x = ops.fromArray(vals, shape, { device, requiresGrad: true });
              // Through a transposed view, with a weighted loss so every output matters.
              const y = fn(ops.transpose(x, 0, 2), axis);
              const w = ops.fromArray(uniformValues(rng(4), sizeOf([...y.shape])), [...y.shape], {
                device,
              });
              ops.sum(ops.mul(y, w)).backward();
              return values(x.grad!);
            }),
          ),
        );
        expectClose(grads[0]!, grads[1]!, { atol: 1e-6, rtol: 1e-5 }, `${name} gradient`);
      });
    }

    it(`${name}: a broadcast upstream gradient (sum of the output) reaches the kernel as a stride-0 view`, async () => {
      const vals = uniformValues(rng(99), 12, -2, 2);
      const grads = await Promise.all(
        [d.gpu, d.ref].map((device) =>
          scope(async () => {
            const x = ops.fromArray(vals, [3, 4], { device, requiresGrad: true });
            ops.sum(fn(x)).backward();
            return values(x.grad!);
          }),
        ),
      );
      expectClose(grads[0]!, grads[1]!, { atol: 1e-6, rtol: 1e-5 });
      // Σ softmax is constant: its gradient is 0. Σ logSoftmax has gradient 1 − n·softmax.
      if (name === 'softmax')
        expectClose(grads[1]!, new Array(12).fill(0), { atol: 1e-12, rtol: 0 });
    });
  }

  it('frees every temporary: forward + backward + dispose leaves memory unchanged', async () => {
    for (const device of [d.gpu, d.ref]) {
      const before = device.memory();
      await scope(async () => {
        const x = ops.fromArray(uniformValues(rng(3), 24), [2, 3, 4], {
          device,
          requiresGrad: true,
        });
        for (let i = 0; i < 2; i++) {
          const y = softmax(x, 1);
          const z = logSoftmax(ops.transpose(y), -1);
          ops.sum(ops.mul(z, 0.5)).backward();
        }
        await values(x.grad!);
      });
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
