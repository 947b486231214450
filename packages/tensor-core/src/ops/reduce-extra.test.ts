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
import { argmax, argmin, logsumexp, variance } from './reduce-extra.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const F32 = { atol: 2e-6, rtol: 2e-5 };
const EXACT = { atol: 0, rtol: 0 };
const sizeOf = (shape: readonly number[]): number => shape.reduce((n, v) => n * v, 1);

/** Runs `build` on the same values on WebGPU and the reference; compares values and shapes. */
async function compare(
  shape: number[],
  build: (x: Tensor) => Tensor,
  vals: ArrayLike<number>,
  tol = F32,
  dtype: DType = 'f32',
): Promise<{ out: number[]; shape: number[] }> {
  const run = (device: Device): Promise<{ out: number[]; shape: number[]; dtype: string }> =>
    scope(async () => {
      const y = build(ops.fromArray(vals, shape, { device, dtype }));
      return { out: await values(y), shape: [...y.shape], dtype: y.dtype };
    });
  const g = await run(d.gpu);
  const r = await run(d.ref);
  expect(g.shape).toEqual(r.shape);
  expect(g.dtype).toBe(r.dtype);
  expectClose(g.out, r.out, tol, `shape ${JSON.stringify(shape)}`);
  return r;
}

describe('reference kernels against direct definitions', () => {
  it('logsumexp, variance (correction 0, 1, 2), argmax and argmin of a 2×5 matrix', async () => {
    const rows = [
      [0.5, -1, 3, 3, 2],
      [7, 7, -2, 0.25, 7],
    ];
    const lse = rows.map((r) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0)));
    const varOf = (r: number[], c: number): number => {
      const mu = r.reduce((a, b) => a + b, 0) / r.length;
      return r.reduce((a, v) => a + (v - mu) ** 2, 0) / (r.length - c);
    };
    await scope(async () => {
      const x = ops.tensor(rows, { device: d.ref });
      expectClose(await values(logsumexp(x, { axis: 1 })), lse, { atol: 1e-14, rtol: 1e-14 });
      for (const c of [0, 1, 2])
        expectClose(
          await values(variance(x, { axis: -1, correction: c })),
          rows.map((r) => varOf(r, c)),
          { atol: 1e-14, rtol: 1e-13 },
        );
      expect(await values(argmax(x, { axis: 1 }))).toEqual([2, 0]);
      expect(await values(argmin(x, { axis: 1 }))).toEqual([1, 2]);
      expect(await values(argmax(x, { axis: 0 }))).toEqual([1, 1, 0, 0, 1]);
      expect(await values(argmax(x))).toEqual([5]);
      expect(argmax(x).dtype).toBe('i32');
    });
  });
});

describe('logsumexp and variance on WebGPU match the float64 reference', () => {
  const cases: [number[], number | number[] | undefined, boolean][] = [
    [[7, 33], -1, false],
    [[7, 33], 0, true],
    [[4, 5, 6], [0, 2], false],
    [[4, 5, 6], undefined, false],
    [[3, 1, 200], 2, true],
    [[1], 0, false],
    [[], undefined, false],
    [[3, 0], 0, false],
  ];
  for (const [shape, axis, keepdim] of cases) {
    it(`shape ${JSON.stringify(shape)}, axis ${JSON.stringify(axis)}, keepdim ${keepdim}`, async () => {
      const vals = uniformValues(rng(shape.length * 17 + 1), sizeOf(shape), -3, 3);
      await compare(shape, (x) => logsumexp(x, { axis, keepdim }), vals);
      await compare(shape, (x) => variance(x, { axis, keepdim }), vals);
      await compare(shape, (x) => variance(x, { axis, keepdim, correction: 0 }), vals);
    });
  }

  it('empty axes: logsumexp is -inf, variance NaN; N <= correction gives NaN or +inf', async () => {
    const lse = await compare([0, 3], (x) => logsumexp(x, { axis: 0 }), []);
    expect(lse.out).toEqual([-Infinity, -Infinity, -Infinity]);
    const v = await compare([0, 3], (x) => variance(x, { axis: 0 }), []);
    expect(v.out.every(Number.isNaN)).toBe(true);
    const single = await compare([2, 1], (x) => variance(x, { axis: 1 }), [1, 2]);
    expect(single.out.every(Number.isNaN)).toBe(true);
    const over = await compare([1, 2], (x) => variance(x, { axis: 1, correction: 3 }), [1, 2]);
    expect(over.out).toEqual([Infinity]);
  });

  it('logsumexp is stable for large and -inf inputs; variance of shifted data keeps its precision', async () => {
    const big = await compare([2, 3], (x) => logsumexp(x, { axis: 1 }), [
      1000,
      1001,
      1002,
      -1000,
      -1e30,
      -Infinity,
    ]);
    expect(big.out.every(Number.isFinite)).toBe(true);
    const masked = await compare([2, 2], (x) => logsumexp(x, { axis: 1 }), [
      -Infinity,
      -Infinity,
      Infinity,
      3,
    ]);
    expect(masked.out).toEqual([-Infinity, Infinity]);
    // Welford in f32 at an offset of 1000: a naive E[x²] − E[x]² would lose every digit here.
    const shifted = Array.from(uniformValues(rng(5), 4 * 300), (v) => 1000 + v);
    await compare([4, 300], (x) => variance(x, { axis: 1 }), shifted, { atol: 1e-4, rtol: 2e-3 });
  });

  it('strided views (transposed, sliced, expanded) and 16-bit and integer inputs', async () => {
    const vals = uniformValues(rng(6), 8 * 9, -3, 3);
    await compare([8, 9], (x) => logsumexp(ops.transpose(x), { axis: 1 }), vals);
    await compare(
      [8, 9],
      (x) => variance(ops.slice(x, [{ step: 3 }, { start: 2 }]), { axis: 0 }),
      vals,
    );
    await compare([1, 9], (x) => variance(ops.expand(x, [5, 9]), { axis: 0 }), vals.slice(0, 9));
    await compare(
      [8, 9],
      (x) => logsumexp(x, { axis: 1 }),
      Array.from(vals, roundToF16),
      TOLERANCE.f16,
      'f16',
    );
    await compare(
      [8, 9],
      (x) => variance(x, { axis: 0 }),
      Array.from(vals, roundToBf16),
      TOLERANCE.bf16,
      'bf16',
    );
    const ints = Array.from(vals, (v) => Math.round(v * 10));
    const li = await compare([8, 9], (x) => logsumexp(x, { axis: 1 }), ints, F32, 'i32');
    expect(li.out.length).toBe(8);
    await compare([8, 9], (x) => variance(x), ints, F32, 'i32');
  });

  it('random shapes and axes (property)', async () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(
        shapes,
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async (shape, axisSeed, keepdim, seed) => {
          const axis = axisSeed % shape.length;
          const vals = uniformValues(rng(seed), sizeOf(shape), -4, 4);
          await compare(shape, (x) => logsumexp(x, { axis, keepdim }), vals);
          await compare(shape, (x) => variance(x, { axis, keepdim }), vals, {
            atol: 1e-5,
            rtol: 1e-4,
          });
        },
      ),
      { numRuns: 12, seed: 11 },
    );
  });
});

describe('argmax and argmin', () => {
  it('match the reference on random data along each axis and flattened, with keepdim', async () => {
    const vals = uniformValues(rng(7), 5 * 70 * 3, -3, 3);
    for (const fn of [argmax, argmin]) {
      for (const axis of [0, 1, -1, undefined]) {
        for (const keepdim of [false, true]) {
          await compare([5, 70, 3], (x) => fn(x, { axis, keepdim }), vals, EXACT);
        }
      }
    }
  });

  it('ties give the first index (also across invocations), NaN is the extreme, integers compare exactly', async () => {
    // 197 equal maxima: every invocation of the 64-wide workgroup sees some; index 3 must win.
    const tied = Array.from({ length: 200 }, (_, i) => (i >= 3 ? 5 : -1));
    expect((await compare([200], (x) => argmax(x, { axis: 0 }), tied, EXACT)).out).toEqual([3]);
    // Minima at 130, 70 and 6: invocations 2 and 6 hold them; the tree must prefer index 6.
    const mins = Array.from({ length: 200 }, (_, i) => ([130, 70, 6].includes(i) ? -2 : 1));
    expect((await compare([200], (x) => argmin(x, { axis: 0 }), mins, EXACT)).out).toEqual([6]);
    const withNan = [1, 9, NaN, 4, NaN, -7];
    expect((await compare([6], (x) => argmax(x), withNan, EXACT)).out).toEqual([2]);
    expect((await compare([6], (x) => argmin(x), withNan, EXACT)).out).toEqual([2]);
    // 2^24 + 1 and 2^24 are equal in f32: integers must compare as integers.
    const big = [16777216, 16777217, 3];
    expect((await compare([3], (x) => argmax(x), big, EXACT, 'i32')).out).toEqual([1]);
    expect((await compare([3], (x) => argmin(x), [5, 2, 2], EXACT, 'u32')).out).toEqual([1]);
    expect(
      (
        await compare(
          [2, 3],
          (x) => argmax(ops.transpose(x), { axis: 1 }),
          [1, 8, 3, 4, 5, 6],
          EXACT,
          'f16',
        )
      ).out,
    ).toEqual([1, 0, 1]);
  });

  it('scalars give 0; empty axes and lists of axes are rejected with clear errors', async () => {
    expect((await compare([], (x) => argmax(x), [4], EXACT)).out).toEqual([0]);
    scope(() => {
      const e = ops.zeros([3, 0], { device: d.ref });
      expect(() => argmax(e, { axis: 1 })).toThrow(
        'argmax: cannot reduce over an empty axis of shape [3,0]',
      );
      expect(() => argmin(e)).toThrow(/argmin: cannot reduce over an empty axis/);
      expect(() =>
        argmax(ops.zeros([2, 2], { device: d.ref }), { axis: [0, 1] as unknown as number }),
      ).toThrow(/argmax: axis must be one integer/);
      expect(() => argmax(ops.zeros([2, 2], { device: d.ref }), { axis: 2 })).toThrow(
        /argmax: axis 2 is out of range/,
      );
      expect(() => variance(ops.zeros([2], { device: d.ref }), { correction: -1 })).toThrow(
        /variance: correction is -1/,
      );
      expect(() => logsumexp(ops.zeros([2], { device: d.ref }), { axis: 1 })).toThrow(
        /logsumexp: axis 1 is out of range/,
      );
    });
  });
});

describe('logsumexp and variance backward', () => {
  const GRADS: [string, (x: Tensor) => Tensor][] = [
    ['logsumexp axis 1', (x) => logsumexp(x, { axis: 1 })],
    ['logsumexp all, keepdim', (x) => logsumexp(x, { keepdim: true })],
    [
      'logsumexp axes [0,2] of a transposed view',
      (x) => logsumexp(ops.transpose(x, 0, 1), { axis: [0, 2] }),
    ],
    ['variance axis 0', (x) => variance(x, { axis: 0 })],
    ['variance all, correction 0', (x) => variance(x, { correction: 0 })],
    [
      'variance axis -1, keepdim, correction 2',
      (x) => variance(x, { axis: -1, keepdim: true, correction: 2 }),
    ],
  ];
  for (const [name, fn] of GRADS) {
    it(`${name}: finite differences on the reference, and WebGPU matches`, async () => {
      const shape = [3, 4, 5];
      const vals = Array.from(uniformValues(rng(name.length), sizeOf(shape), -2, 2));
      await gradCheck(d.ref, fn, [{ values: vals, shape }], { atol: 1e-6, rtol: 1e-5 });
      const grads = await Promise.all(
        [d.gpu, d.ref].map((device) =>
          scope(async () => {
            const x = ops.fromArray(vals, shape, { device, requiresGrad: true });
            const y = fn(x);
            const w = ops.fromArray(uniformValues(rng(4), sizeOf([...y.shape])), [...y.shape], {
              device,
            });
            ops.sum(ops.mul(y, w)).backward();
            return values(x.grad!);
          }),
        ),
      );
      expectClose(grads[0]!, grads[1]!, { atol: 1e-5, rtol: 1e-4 }, name);
    });
  }

  it('argmax output does not require grad', () => {
    scope(() => {
      const x = ops.fromArray([1, 3, 2], [3], { device: d.ref, requiresGrad: true });
      expect(argmax(x).requiresGrad).toBe(false);
    });
  });

  it('frees every temporary: forward + backward + dispose leaves memory unchanged', async () => {
    for (const device of [d.gpu, d.ref]) {
      const before = device.memory();
      await scope(async () => {
        const x = ops.fromArray(uniformValues(rng(3), 24), [2, 3, 4], {
          device,
          requiresGrad: true,
        });
        for (let i = 0; i < 2; i++) {
          const a = logsumexp(x, { axis: 1 });
          const b = variance(x, { axis: [0, 2], keepdim: true });
          ops.add(ops.sum(a), ops.sum(b)).backward();
          argmax(x, { axis: 2 });
          argmin(x);
        }
        await values(x.grad!);
      });
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
