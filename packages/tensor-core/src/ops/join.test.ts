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
import { concat, pad, split, stack } from './join.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const f32 = (rand: () => number, n: number): number[] =>
  Array.from(uniformValues(rand, n), (v) => Math.fround(v));
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

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

/** `vals` of `shape` as a transposed (non-contiguous) view when rank >= 2. */
function strided(device: Device, vals: number[], shape: number[], dtype: DType = 'f32'): Tensor {
  const r = shape.length;
  if (r < 2) return fromArray(vals, shape, { device, dtype });
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

/** Direct oracle of concat. */
function concatOracle(parts: { v: number[]; shape: number[] }[], axis: number): number[] {
  const outShape = [...parts[0]!.shape];
  outShape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  const out = new Array<number>(size(outShape));
  let start = 0;
  for (const p of parts) {
    p.v.forEach((v, e) => {
      const c = coords(e, p.shape);
      c[axis]! += start;
      out[flatOf(c, outShape)] = v;
    });
    start += p.shape[axis]!;
  }
  return out;
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

describe('concat and stack', () => {
  it('matches a direct oracle for random shapes and axes, strided and empty inputs, several dtypes', async () => {
    const rand = rng(1);
    const cases: { shape: number[]; sizes: number[]; axis: number; dtype: DType }[] = [
      { shape: [3, 4], sizes: [2, 0, 5], axis: 0, dtype: 'f32' },
      { shape: [3, 4], sizes: [1, 3], axis: 1, dtype: 'i32' },
      { shape: [2, 3, 5], sizes: [3, 1, 2, 2], axis: 1, dtype: 'f32' },
      { shape: [2, 3, 5], sizes: [4, 7], axis: -1, dtype: 'bool' },
      { shape: [7], sizes: [7, 1, 3], axis: 0, dtype: 'f32' },
      { shape: [0, 3], sizes: [2, 2], axis: 1, dtype: 'f32' },
    ];
    for (const { shape, sizes, axis, dtype } of cases) {
      const a = axis < 0 ? axis + shape.length : axis;
      const parts = sizes.map((s) => {
        const ps = [...shape];
        ps[a] = s;
        const v =
          dtype === 'f32'
            ? f32(rand, size(ps))
            : Array.from(
                { length: size(ps) },
                () =>
                  Math.floor(rand() * (dtype === 'bool' ? 2 : 100)) - (dtype === 'bool' ? 0 : 50),
              );
        return { v, shape: ps };
      });
      const want = concatOracle(parts, a);
      for (const device of [devs.gpu, devs.ref]) {
        const ts = parts.map((p, i) =>
          i % 2 === 0
            ? strided(device, p.v, p.shape, dtype)
            : fromArray(p.v, p.shape, { device, dtype }),
        );
        const out = concat(ts, axis);
        expect(out.dtype).toBe(dtype);
        expect(await values(out)).toEqual(want);
      }
    }
  });

  it('concat gradients are slices of the output gradient', async () => {
    const rand = rng(2);
    await compareGrads(
      (a, b, c) => concat([a!, transpose(b!), c!], 1),
      [
        { values: f32(rand, 6), shape: [2, 3] },
        { values: f32(rand, 10), shape: [5, 2] },
        { values: f32(rand, 2), shape: [2, 1] },
      ],
    );
  });

  it('stack inserts a new axis and has correct gradients', async () => {
    const rand = rng(3);
    const a = f32(rand, 6);
    const b = f32(rand, 6);
    for (const device of [devs.gpu, devs.ref]) {
      const s = stack([fromArray(a, [2, 3], { device }), fromArray(b, [2, 3], { device })], -1);
      expect(s.shape).toEqual([2, 3, 2]);
      expect(await values(s)).toEqual(a.flatMap((v, i) => [v, b[i]!]));
      const s0 = stack([fromArray(a, [2, 3], { device }), fromArray(b, [2, 3], { device })]);
      expect(s0.shape).toEqual([2, 2, 3]);
      expect(await values(s0)).toEqual([...a, ...b]);
    }
    await compareGrads(
      (x, y) => stack([x!, y!], 1),
      [
        { values: a, shape: [2, 3] },
        { values: b, shape: [2, 3] },
      ],
    );
  });
});

describe('split', () => {
  it('splits into views by chunk length or list; concat of the pieces gives x back (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        async (dim, other, chunk, seed) => {
          const rand = rng(seed);
          const shape = [other, dim];
          const xv = f32(rand, size(shape));
          const x = fromArray(xv, shape, { device: devs.gpu });
          const pieces = split(x, chunk, 1);
          const lengths = pieces.map((p) => p.shape[1]!);
          expect(lengths.reduce((s, d) => s + d, 0)).toBe(dim);
          expect(lengths.slice(0, -1).every((d) => d === chunk)).toBe(true);
          for (const p of pieces) expect(p.storage).toBe(x.storage);
          expect(await values(concat(pieces, 1))).toEqual(xv);
        },
      ),
      { numRuns: 12, seed: 5 },
    );
    const x = fromArray([0, 1, 2, 3, 4, 5], [6], { device: devs.ref });
    const parts = split(x, [1, 0, 5]);
    expect(await Promise.all(parts.map(values))).toEqual([[0], [], [1, 2, 3, 4, 5]]);
  });

  it('records one node; pieces without a gradient contribute zeros', async () => {
    const rand = rng(4);
    const x = f32(rand, 15);
    await compareGrads(
      (t) => {
        const [a, b] = split(t!, [2, 2, 1], 1);
        return mul(a!, b!);
      },
      [{ values: x, shape: [3, 5] }],
    );
    const t = fromArray(x, [3, 5], { device: devs.gpu, requiresGrad: true });
    const pieces = split(t, 2, 1);
    expect(new Set(pieces.map((p) => p.gradNode())).size).toBe(1);
    sum(pieces[2]!).backward();
    expect(await values(t.grad!)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });
});

describe('pad', () => {
  it('matches a direct oracle for trailing and full pads, values incl. NaN, strided input, dtypes', async () => {
    const rand = rng(6);
    const cases: { shape: number[]; pads: [number, number][]; value: number; dtype: DType }[] = [
      { shape: [3, 4], pads: [[1, 2]], value: 0, dtype: 'f32' },
      {
        shape: [2, 3, 4],
        pads: [
          [0, 1],
          [2, 0],
          [1, 1],
        ],
        value: 2.5,
        dtype: 'f32',
      },
      {
        shape: [2, 3],
        pads: [
          [1, 1],
          [0, 0],
        ],
        value: NaN,
        dtype: 'f32',
      },
      { shape: [2, 3], pads: [[0, 3]], value: -3, dtype: 'i32' },
      { shape: [3, 2], pads: [[1, 0]], value: 1, dtype: 'bool' },
      {
        shape: [0, 2],
        pads: [
          [1, 1],
          [1, 0],
        ],
        value: 4,
        dtype: 'f32',
      },
      { shape: [4], pads: [], value: 9, dtype: 'f32' },
    ];
    for (const { shape, pads, value, dtype } of cases) {
      const xv =
        dtype === 'f32'
          ? f32(rand, size(shape))
          : Array.from({ length: size(shape) }, (_, i) => (dtype === 'bool' ? i % 2 : i * 7 - 20));
      const lead = shape.length - pads.length;
      const before = shape.map((_, d) => (d < lead ? 0 : pads[d - lead]![0]));
      const outShape = shape.map((d, i) => d + before[i]! + (i < lead ? 0 : pads[i - lead]![1]));
      const want = Array.from({ length: size(outShape) }, (_, e) => {
        const c = coords(e, outShape).map((v, d) => v - before[d]!);
        return c.every((v, d) => v >= 0 && v < shape[d]!) ? xv[flatOf(c, shape)]! : value;
      });
      for (const device of [devs.gpu, devs.ref]) {
        const out = pad(strided(device, xv, shape, dtype), pads, value);
        expect(out.shape).toEqual(outShape);
        expectClose(await values(out), want, TOLERANCE.f32, `pad ${JSON.stringify(pads)}`);
      }
    }
  });

  it('has the slice of the output gradient as its gradient', async () => {
    const rand = rng(7);
    await compareGrads(
      (x) =>
        pad(transpose(x!), [
          [1, 0],
          [2, 3],
        ]),
      [{ values: f32(rand, 12), shape: [4, 3] }],
    );
  });
});

describe('join ops', () => {
  it('reject bad arguments with errors naming them', () => {
    const device = devs.ref;
    const a = fromArray([1, 2, 3, 4, 5, 6], [2, 3], { device });
    const b = fromArray([1, 2], [2, 1], { device, dtype: 'i32' });
    const c = fromArray([1, 2, 3], [1, 3], { device });
    expect(() => concat([], 0)).toThrow(/concat: tensors must be a non-empty array/);
    expect(() => concat([a, b], 1)).toThrow(/concat: tensors\[1\] has dtype i32; expected f32/);
    expect(() => concat([a, c], 1)).toThrow(
      /concat: tensors\[1\] has shape \[1,3\]; expected \[2,\*\]/,
    );
    expect(() => stack([a, c])).toThrow(/stack: tensors\[1\] has shape \[1,3\]; expected \[2,3\]/);
    expect(() => split(a, [1, 1], 1)).toThrow(
      /split: sizes \[1,1\] must be non-negative integers summing to 3/,
    );
    expect(() => split(a, 0, 1)).toThrow(/split: sizes 0 must be a positive integer/);
    expect(() =>
      pad(a, [
        [1, 1],
        [0, 0],
        [0, 0],
      ]),
    ).toThrow(/pad: pads has 3 pairs; expected at most 2/);
    expect(() => pad(a, [[-1, 0]])).toThrow(
      /pad: pads\[0\] is \[-1,0\]; expected \[before, after\]/,
    );
    expect(() => pad(b, [[1, 0]], 0.5)).toThrow(
      /pad: value 0.5 is not an integer; x has dtype i32/,
    );
  });

  it('free every temporary (forward + backward + dispose in a scope)', async () => {
    for (const device of [devs.gpu, devs.ref]) {
      const before = device.memory();
      for (let step = 0; step < 3; step++) {
        await scope(async () => {
          const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3], { device, requiresGrad: true });
          const [p, q] = split(x, [1, 2], 1);
          const s = stack([pad(p!, [[0, 1]]), q!], 0);
          const c = concat([s, s], 2);
          sum(mul(c, c)).backward();
          await values(x.grad!);
          x.dispose();
        });
      }
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
