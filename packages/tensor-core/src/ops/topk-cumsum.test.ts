import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import {
  TOLERANCE,
  type TestDevices,
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
  uniformValues,
  values,
} from '../test-utils/index.js';
import '../index.js';
import { fromArray, mul, sum, transpose } from './index.js';
import { cumsum, topk } from './topk-cumsum.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const f32 = (rand: () => number, n: number): number[] =>
  Array.from(uniformValues(rand, n), (v) => Math.fround(v));
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Independent oracle of topk over the rows of a row-major [rows, len] array. */
function topkOracle(
  v: number[],
  rows: number,
  len: number,
  k: number,
  largest: boolean,
): { values: number[]; indices: number[] } {
  // Rank key: NaN beyond every number; -0 and +0 compare equal (=== does).
  const score = (x: number): number => (Number.isNaN(x) ? Infinity : x) * (largest ? 1 : -1);
  const outV: number[] = [];
  const outI: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = v.slice(r * len, r * len + len);
    const nanFirst = (i: number): number => (Number.isNaN(row[i]!) ? (largest ? 0 : 2) : 1);
    const order = row
      .map((_, i) => i)
      .sort((a, b) => {
        const na = nanFirst(a);
        const nb = nanFirst(b);
        if (na !== nb) return na - nb;
        const sa = score(row[a]!);
        const sb = score(row[b]!);
        if (sa !== sb) return sb - sa;
        return a - b;
      });
    for (const i of order.slice(0, k)) {
      outV.push(row[i]!);
      outI.push(i);
    }
  }
  return { values: outV, indices: outI };
}

async function gradsOn(
  device: Device,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { values: number[]; shape: number[] }[],
  weights: (n: number) => number[],
): Promise<number[][]> {
  return scope(async () => {
    const leaves = inputs.map((x) => fromArray(x.values, x.shape, { device, requiresGrad: true }));
    const out = fn(...leaves);
    const w = fromArray(weights(out.size), [...out.shape], { device });
    sum(mul(out, w)).backward();
    return Promise.all(leaves.map((l) => values(l.grad!)));
  });
}

async function compareGrads(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { values: number[]; shape: number[] }[],
): Promise<void> {
  await gradCheck(devs.ref, fn, inputs);
  const w = (n: number) => f32(rng(99), n);
  const gpu = await gradsOn(devs.gpu, fn, inputs, w);
  const ref = await gradsOn(devs.ref, fn, inputs, w);
  gpu.forEach((g, i) => expectClose(g, ref[i]!, TOLERANCE.f32, `gradient ${i}`));
}

/** Runs topk on both devices over [rows, len] data and checks both against the oracle. */
async function checkTopk(
  v: number[],
  rows: number,
  len: number,
  k: number,
  largest: boolean,
  dtype: DType = 'f32',
): Promise<void> {
  const want = topkOracle(v, rows, len, k, largest);
  for (const device of [devs.gpu, devs.ref]) {
    const r = topk(fromArray(v, [rows, len], { device, dtype }), k, { largest });
    expect(r.indices.dtype).toBe('i32');
    const gotI = await values(r.indices);
    const gotV = await values(r.values);
    expect(gotI, `${device.name} indices (len ${len}, k ${k})`).toEqual(want.indices);
    expectClose(gotV, want.values, { atol: 0, rtol: 0 }, `${device.name} values`);
  }
}

describe('topk', () => {
  it('orders rows that fit in workgroup memory, with ties, NaN and signed zeros', async () => {
    const rand = rng(1);
    for (const [rows, len, k] of [
      [3, 1, 1],
      [4, 8, 2],
      [2, 37, 37],
      [5, 300, 7],
      [2, 2048, 100],
    ] as const) {
      // Few distinct values so that ties are common.
      const v = Array.from({ length: rows * len }, () =>
        Math.fround(Math.floor(rand() * 9) / 4 - 1),
      );
      await checkTopk(v, rows, len, k, true);
      await checkTopk(v, rows, len, k, false);
    }
    const special = [0, -0, NaN, 1, -Infinity, Infinity, NaN, -0, 1, -1];
    await checkTopk(special, 1, 10, 10, true);
    await checkTopk(special, 1, 10, 10, false);
  });

  it('handles vocabulary-sized rows (radix select) for small and large k', async () => {
    const rand = rng(2);
    const vocab = 50257;
    const v = f32(rand, 2 * vocab);
    // Plant ties at the boundary of the top 50 and a NaN.
    v[17] = v[99] = v[40000] = Math.fround(0.99999);
    v[vocab + 5] = NaN;
    await checkTopk(v, 2, vocab, 50, true);
    await checkTopk(v, 2, vocab, 1, false);
    const w = Array.from({ length: 3000 }, () => Math.fround(Math.floor(rand() * 40)));
    await checkTopk(w, 1, 3000, 1500, true);
  });

  it('works along any axis of strided views, for i32 and f16, and for k = 0', async () => {
    const rand = rng(3);
    const v = Array.from({ length: 24 }, () => Math.floor(rand() * 10) - 5);
    const want = topkOracle(v, 4, 6, 3, true);
    for (const device of [devs.gpu, devs.ref]) {
      // x is [6, 4] holding the transpose of the [4, 6] rows: top-k along axis 0.
      const x = transpose(fromArray(v, [4, 6], { device, dtype: 'i32' }));
      const r = topk(x, 3, { axis: 0 });
      expect(r.values.shape).toEqual([3, 4]);
      const gv = await values(transpose(r.values));
      const gi = await values(transpose(r.indices));
      expect(gv).toEqual(want.values);
      expect(gi).toEqual(want.indices);
      const h = topk(fromArray([0.5, -2, 3.25, 1], [4], { device, dtype: 'f16' }), 2);
      expect(h.values.dtype).toBe('f16');
      expect(await values(h.values)).toEqual([3.25, 1]);
      expect(await values(h.indices)).toEqual([2, 3]);
      const z = topk(fromArray([1, 2, 3], [1, 3], { device }), 0);
      expect(z.values.shape).toEqual([1, 0]);
    }
  });

  it('finds the same top-k as the oracle on random rows (fast-check, WebGPU)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        async (len, rows, seed, largest) => {
          const rand = rng(seed);
          const k = 1 + Math.floor(rand() * len);
          const v = Array.from({ length: rows * len }, () =>
            Math.fround(Math.floor(rand() * 6) - 3),
          );
          const want = topkOracle(v, rows, len, k, largest);
          const r = topk(fromArray(v, [rows, len], { device: devs.gpu }), k, { largest });
          expect(await values(r.indices)).toEqual(want.indices);
        },
      ),
      { numRuns: 15, seed: 4 },
    );
  });

  it('sends the gradient of values to the selected positions', async () => {
    const rand = rng(5);
    await compareGrads(
      (x) => topk(x!, 3, { axis: 1 }).values,
      [{ values: f32(rand, 20), shape: [4, 5] }],
    );
    await compareGrads(
      (x) => topk(transpose(x!), 2, { axis: 0, largest: false }).values,
      [{ values: f32(rand, 12), shape: [3, 4] }],
    );
  });
});

describe('cumsum', () => {
  it('matches a direct oracle for random shapes, axes, directions, strided inputs and dtypes', async () => {
    const rand = rng(6);
    const cases: { shape: number[]; axis: number; dtype: DType }[] = [
      { shape: [7], axis: 0, dtype: 'f32' },
      { shape: [3, 1000], axis: 1, dtype: 'f32' },
      { shape: [300, 3], axis: 0, dtype: 'f32' },
      { shape: [2, 5, 3], axis: 1, dtype: 'i32' },
      { shape: [4, 6], axis: -1, dtype: 'bool' },
      { shape: [4, 6], axis: 0, dtype: 'u32' },
      { shape: [0, 3], axis: 1, dtype: 'f32' },
      { shape: [3, 0], axis: 1, dtype: 'f32' },
    ];
    for (const { shape, axis, dtype } of cases) {
      const a = axis < 0 ? axis + shape.length : axis;
      const v =
        dtype === 'f32'
          ? f32(rand, size(shape))
          : Array.from({ length: size(shape) }, () =>
              dtype === 'bool'
                ? Math.floor(rand() * 2)
                : Math.floor(rand() * 100) - (dtype === 'i32' ? 50 : 0),
            );
      const inner = size(shape.slice(a + 1));
      const len = shape[a]!;
      for (const reverse of [false, true]) {
        const want = new Array<number>(v.length);
        for (let o = 0; o < size(shape.slice(0, a)); o++) {
          for (let i = 0; i < inner; i++) {
            let acc = 0;
            for (let s = 0; s < len; s++) {
              const j = reverse ? len - 1 - s : s;
              const at = (o * len + j) * inner + i;
              acc += v[at]!;
              want[at] = acc;
            }
          }
        }
        for (const device of [devs.gpu, devs.ref]) {
          // A transposed view over the data exercises strided lines.
          const base =
            shape.length === 2
              ? transpose(
                  fromArray(transposeValues(v, shape), [shape[1]!, shape[0]!], { device, dtype }),
                )
              : fromArray(v, shape, { device, dtype });
          const out = cumsum(base, axis, { reverse });
          expect(out.dtype).toBe(dtype === 'f32' || dtype === 'u32' ? dtype : 'i32');
          const tol =
            dtype === 'f32' ? { atol: 2e-5 * Math.sqrt(len + 1), rtol: 1e-4 } : TOLERANCE.i32;
          expectClose(await values(out), want, tol, `cumsum ${JSON.stringify(shape)} axis ${axis}`);
        }
      }
    }
  });

  it('has the reverse cumulative sum as its gradient', async () => {
    const rand = rng(7);
    await compareGrads((x) => cumsum(x!, 1), [{ values: f32(rand, 15), shape: [3, 5] }]);
    await compareGrads(
      (x) => cumsum(transpose(x!), 0, { reverse: true }),
      [{ values: f32(rand, 12), shape: [3, 4] }],
    );
  });
});

function transposeValues(v: number[], shape: number[]): number[] {
  const [r, c] = shape as [number, number];
  const out = new Array<number>(v.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j]!;
  return out;
}

describe('topk and cumsum', () => {
  it('reject bad arguments with errors naming them', () => {
    const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3], { device: devs.ref });
    expect(() => topk(x, 4)).toThrow(/topk: k is 4; expected an integer in \[0, 3\]/);
    expect(() => topk(x, 1, { axis: 2 })).toThrow(/topk: axis 2 is out of range/);
    expect(() => topk(fromArray([1], [], { device: devs.ref }), 1)).toThrow(/topk: x is a scalar/);
    expect(() => cumsum(x, -3)).toThrow(/cumsum: axis -3 is out of range/);
  });

  it('free every temporary (forward + backward + dispose in a scope)', async () => {
    for (const device of [devs.gpu, devs.ref]) {
      const before = device.memory();
      for (let step = 0; step < 3; step++) {
        await scope(async () => {
          const x = fromArray([3, 1, 4, 1, 5, 9, 2, 6], [2, 4], { device, requiresGrad: true });
          const { values: v, indices } = topk(cumsum(x, 1), 2);
          sum(mul(v, v)).backward();
          await values(x.grad!);
          await values(indices);
          x.dispose();
        });
      }
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
