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
import { fromArray, mul, sum, transpose, slice } from './index.js';
import { embedding, gather, indexSelect, scatterAdd } from './indexing.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const f32 = (rand: () => number, n: number): number[] =>
  Array.from(uniformValues(rand, n), (v) => Math.fround(v));
const ints = (rand: () => number, n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, () => lo + Math.floor(rand() * (hi - lo)));
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major coordinates of flat index e. */
function coords(e: number, shape: readonly number[]): number[] {
  const c: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = e % shape[d]!;
    e = Math.floor(e / shape[d]!);
  }
  return c;
}
const flatOf = (c: number[], shape: readonly number[]): number =>
  c.reduce((o, v, d) => o * shape[d]! + v, 0);

/** A transposed view (non-contiguous) holding `vals` of `shape` (rank >= 2), else a strided slice. */
function strided(device: Device, vals: number[], shape: number[], dtype: DType = 'f32'): Tensor {
  if (shape.length >= 2) {
    const r = shape.length;
    const tShape = [...shape];
    [tShape[r - 2], tShape[r - 1]] = [shape[r - 1]!, shape[r - 2]!];
    const tVals = new Array<number>(vals.length);
    for (let e = 0; e < vals.length; e++) {
      const c = coords(e, shape);
      [c[r - 2], c[r - 1]] = [c[r - 1]!, c[r - 2]!];
      tVals[flatOf(c, tShape)] = vals[e]!;
    }
    return transpose(fromArray(tVals, tShape, { device, dtype }));
  }
  const doubled = vals.flatMap((v) => [v, -7]);
  return slice(fromArray(doubled, [doubled.length], { device, dtype }), [{ step: 2 }]);
}

/** Reads leaf gradients after backward of sum(fn(...leaves) * w). */
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

describe('indexSelect', () => {
  it('matches the reference on random shapes, axes, strided inputs and out-of-range indices', async () => {
    const rand = rng(1);
    for (const shape of [[5], [4, 7], [3, 1, 6], [2, 0, 3], [6, 5]]) {
      for (let axis = 0; axis < shape.length; axis++) {
        const dim = shape[axis]!;
        const xv = f32(rand, size(shape));
        const iv = ints(rand, 9, -2, dim + 2);
        const got: number[][] = [];
        for (const device of [devs.gpu, devs.ref]) {
          const x = strided(device, xv, shape);
          const index = strided(device, iv, [iv.length], 'i32');
          got.push(await values(indexSelect(x, axis, index)));
        }
        // Independent oracle.
        const outShape = [...shape];
        outShape[axis] = iv.length;
        const want = Array.from({ length: size(outShape) }, (_, e) => {
          const c = coords(e, outShape);
          const t = iv[c[axis]!]!;
          if (t < 0 || t >= dim) return 0;
          c[axis] = t;
          return xv[flatOf(c, shape)]!;
        });
        expect(got[0]).toEqual(want);
        expect(got[1]).toEqual(want);
      }
    }
  });

  it('copies i32, bool and f16 values exactly', async () => {
    const rand = rng(2);
    for (const dtype of ['i32', 'bool', 'f16'] as DType[]) {
      const xv =
        dtype === 'f16'
          ? [0.5, -1.25, 3, 1e-3, 7, 2]
          : dtype === 'bool'
            ? ints(rand, 6, 0, 2)
            : ints(rand, 6, -50, 50);
      const got = await Promise.all(
        [devs.gpu, devs.ref].map((device) =>
          values(
            indexSelect(
              fromArray(xv, [3, 2], { device, dtype }),
              0,
              fromArray([2, 0, 2, 1], [4], { device, dtype: 'i32' }),
            ),
          ),
        ),
      );
      const f16 = await values(fromArray([1e-3], [1], { device: devs.ref, dtype: 'f16' }));
      const want = [2, 0, 2, 1]
        .flatMap((r) => [xv[2 * r]!, xv[2 * r + 1]!])
        .map((v) => (v === 1e-3 ? f16[0]! : v));
      expect(got[0]).toEqual(want);
      expect(got[1]).toEqual(want);
    }
  });

  it('has correct gradients (finite differences, and WebGPU against the reference)', async () => {
    const rand = rng(3);
    const shape = [3, 5, 4];
    const iv = [4, 0, 4, 4, 2, -1, 9, 0];
    const xv = f32(rand, size(shape));
    const fn = (device: Device) => (x: Tensor) =>
      indexSelect(x, 1, fromArray(iv, [iv.length], { device, dtype: 'i32' }));
    await gradCheck(devs.ref, fn(devs.ref), [{ values: xv, shape }]);
    const w = (n: number) => f32(rng(4), n);
    const [gpu] = await gradsOn(devs.gpu, fn(devs.gpu), [{ values: xv, shape }], w);
    const [ref] = await gradsOn(devs.ref, fn(devs.ref), [{ values: xv, shape }], w);
    expectClose(gpu!, ref!, TOLERANCE.f32, 'indexSelect grad');
  });
});

describe('embedding', () => {
  it('gathers rows for ids of any shape', async () => {
    const rand = rng(5);
    const [V, D] = [7, 5];
    const wv = f32(rand, V * D);
    const ids = [3, 0, 6, 3, 7, -1];
    for (const device of [devs.gpu, devs.ref]) {
      const out = embedding(
        fromArray(wv, [V, D], { device }),
        fromArray(ids, [2, 3], { device, dtype: 'i32' }),
      );
      expect(out.shape).toEqual([2, 3, D]);
      const want = ids.flatMap((id) =>
        id >= 0 && id < V ? wv.slice(id * D, id * D + D) : new Array<number>(D).fill(0),
      );
      expect(await values(out)).toEqual(want);
    }
  });

  it('scatter-adds gradients deterministically with heavy repeats, many blocks and a large vocab', async () => {
    const rand = rng(6);
    for (const [V, D, N] of [
      [50, 33, 700],
      [1000, 3, 300],
      [4, 1, 1],
    ] as const) {
      const wv = f32(rand, V * D);
      // Skewed: half the ids are id 1, some out of range.
      const ids = Array.from({ length: N }, () => {
        const r = rand();
        return r < 0.5 ? 1 : r < 0.55 ? V + 3 : Math.floor(rand() * V);
      });
      const fn = (device: Device) => (w: Tensor) =>
        embedding(w, fromArray(ids, [N], { device, dtype: 'i32' }));
      const weights = (n: number) => f32(rng(7), n);
      const [gpu] = await gradsOn(devs.gpu, fn(devs.gpu), [{ values: wv, shape: [V, D] }], weights);
      const [again] = await gradsOn(
        devs.gpu,
        fn(devs.gpu),
        [{ values: wv, shape: [V, D] }],
        weights,
      );
      const [ref] = await gradsOn(devs.ref, fn(devs.ref), [{ values: wv, shape: [V, D] }], weights);
      // Oracle: direct accumulation in float64.
      const g = weights(N * D);
      const want = new Array<number>(V * D).fill(0);
      ids.forEach((id, j) => {
        if (id < 0 || id >= V) return;
        for (let d = 0; d < D; d++) want[id * D + d]! += g[j * D + d]!;
      });
      expectClose(ref!, want, { atol: 1e-12, rtol: 1e-12 }, 'reference embedding grad');
      expectClose(gpu!, want, { atol: 1e-4, rtol: 1e-4 }, 'WebGPU embedding grad');
      expect(again).toEqual(gpu);
    }
  });

  it('passes gradCheck with ids of rank 2', async () => {
    const rand = rng(8);
    const ids = [1, 2, 1, 0, 2, 2];
    await gradCheck(
      devs.ref,
      (w) => embedding(w, fromArray(ids, [3, 2], { device: devs.ref, dtype: 'i32' })),
      [{ values: f32(rand, 12), shape: [4, 3] }],
    );
  });
});

describe('gather and scatterAdd', () => {
  it('gather matches a direct oracle (fast-check), with smaller index dims and out-of-range', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 })),
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 1000 }),
        async (shape, axis, k, seed) => {
          const rand = rng(seed);
          const xShape = [...shape];
          const iShape = [...shape];
          iShape[axis] = k;
          iShape[1 - axis] = Math.max(1, Math.floor(rand() * shape[1 - axis]!) + 1);
          const xv = f32(rand, size(xShape));
          const iv = ints(rand, size(iShape), -1, xShape[axis]! + 1);
          const want = iv.map((t, e) => {
            if (t < 0 || t >= xShape[axis]!) return 0;
            const c = coords(e, iShape);
            c[axis] = t;
            return xv[flatOf(c, xShape)]!;
          });
          for (const device of [devs.gpu, devs.ref]) {
            const out = gather(
              strided(device, xv, xShape),
              axis,
              fromArray(iv, iShape, { device, dtype: 'i32' }),
            );
            expect(await values(out)).toEqual(want);
          }
        },
      ),
      { numRuns: 15, seed: 11 },
    );
  });

  it('gather gradients: gradCheck and WebGPU against the reference (repeated indices)', async () => {
    const rand = rng(9);
    const xShape = [3, 4, 5];
    const iShape = [2, 4, 6];
    const iv = ints(rand, size(iShape), 0, 4);
    const xv = f32(rand, size(xShape));
    const fn = (device: Device) => (x: Tensor) =>
      gather(x, 2, fromArray(iv, iShape, { device, dtype: 'i32' }));
    await gradCheck(devs.ref, fn(devs.ref), [{ values: xv, shape: xShape }]);
    const w = (n: number) => f32(rng(10), n);
    const [gpu] = await gradsOn(devs.gpu, fn(devs.gpu), [{ values: xv, shape: xShape }], w);
    const [ref] = await gradsOn(devs.ref, fn(devs.ref), [{ values: xv, shape: xShape }], w);
    expectClose(gpu!, ref!, TOLERANCE.f32, 'gather grad');
  });

  it('scatterAdd matches a direct oracle for f32 and i32, strided, with out-of-range dropped', async () => {
    const rand = rng(12);
    const xShape = [4, 6];
    const iShape = [3, 6];
    for (const dtype of ['f32', 'i32'] as DType[]) {
      const gen = (n: number) => (dtype === 'f32' ? f32(rand, n) : ints(rand, n, -9, 9));
      const xv = gen(size(xShape));
      const sv = gen(size(iShape));
      const iv = ints(rand, size(iShape), -1, 5);
      const want = [...xv];
      iv.forEach((t, e) => {
        if (t < 0 || t >= 4) return;
        const c = coords(e, iShape);
        c[0] = t;
        want[flatOf(c, xShape)]! += sv[e]!;
      });
      for (const device of [devs.gpu, devs.ref]) {
        const out = scatterAdd(
          strided(device, xv, xShape, dtype),
          0,
          fromArray(iv, iShape, { device, dtype: 'i32' }),
          strided(device, sv, iShape, dtype),
        );
        expect(out.dtype).toBe(dtype);
        expectClose(await values(out), want, TOLERANCE.f32, `scatterAdd ${dtype}`);
      }
    }
  });

  it('scatterAdd gradients for x and src', async () => {
    const rand = rng(13);
    const xShape = [5, 3];
    const iShape = [5, 2];
    const iv = ints(rand, size(iShape), 0, 3);
    const inputs = [
      { values: f32(rand, size(xShape)), shape: xShape },
      { values: f32(rand, size(iShape)), shape: iShape },
    ];
    const fn = (device: Device) => (x: Tensor, src: Tensor) =>
      scatterAdd(x, -1, fromArray(iv, iShape, { device, dtype: 'i32' }), src);
    await gradCheck(devs.ref, fn(devs.ref), inputs);
    const w = (n: number) => f32(rng(14), n);
    const gpu = await gradsOn(devs.gpu, fn(devs.gpu), inputs, w);
    const ref = await gradsOn(devs.ref, fn(devs.ref), inputs, w);
    expectClose(gpu[0]!, ref[0]!, TOLERANCE.f32, 'scatterAdd dx');
    expectClose(gpu[1]!, ref[1]!, TOLERANCE.f32, 'scatterAdd dsrc');
  });

  it('rejects bad arguments with errors naming them', () => {
    const device = devs.ref;
    const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3], { device });
    const fi = fromArray([0, 1], [2], { device });
    const i2 = fromArray([0, 1], [1, 2], { device, dtype: 'i32' });
    expect(() => indexSelect(x, 0, fi)).toThrow(/indexSelect: index has dtype f32; expected i32/);
    expect(() => indexSelect(x, 2, i2)).toThrow(/indexSelect: axis 2 is out of range/);
    expect(() => indexSelect(x, 0, i2)).toThrow(
      /indexSelect: index has shape \[1,2\]; expected a 1-D/,
    );
    expect(() => embedding(fromArray([1, 2], [2], { device }), i2)).toThrow(
      /embedding: weight has shape \[2\]; expected 2 dims/,
    );
    expect(() => gather(x, 0, fromArray([0], [1], { device, dtype: 'i32' }))).toThrow(
      /gather: index has shape \[1\]; expected rank 2/,
    );
    expect(() => gather(x, 0, fromArray([0, 0, 0, 0], [1, 4], { device, dtype: 'i32' }))).toThrow(
      /gather: index has shape \[1,4\]; expected its dim 1 to be at most 3/,
    );
    expect(() => scatterAdd(x, 1, i2, fromArray([1, 2, 3], [1, 3], { device }))).toThrow(
      /scatterAdd: src has shape \[1,3\]; expected index's shape \[1,2\]/,
    );
    expect(() => scatterAdd(x, 1, i2, fromArray([1, 2], [1, 2], { device, dtype: 'i32' }))).toThrow(
      /scatterAdd: src has dtype i32; expected x's dtype f32/,
    );
  });

  it('frees every temporary (forward + backward + dispose in a scope)', async () => {
    for (const device of [devs.gpu, devs.ref]) {
      const before = device.memory();
      for (let step = 0; step < 3; step++) {
        await scope(async () => {
          const w = fromArray([1, 2, 3, 4, 5, 6], [3, 2], { device, requiresGrad: true });
          const ids = fromArray([2, 0, 2], [3], { device, dtype: 'i32' });
          const e = embedding(w, ids);
          const col = fromArray([1, 0, 0], [3, 1], { device, dtype: 'i32' });
          const g = gather(e, 1, col);
          const s = indexSelect(
            scatterAdd(e, 1, col, g),
            0,
            fromArray([1, 1], [2], { device, dtype: 'i32' }),
          );
          sum(s).backward();
          await values(w.grad!);
          w.dispose();
        });
      }
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
