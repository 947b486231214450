import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DType } from '../dtype.js';
import { UNARY } from './elementwise-table.js';
import * as ops from './index.js';
import type { Tensor } from '../tensor.js';
import {
  expectClose,
  gradCheck,
  onEach,
  openTestDevices,
  rng,
  TOLERANCE,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

// Inputs inside each op's domain, away from kinks where f32 and f64 disagree by design.
const DOMAIN: Record<string, [number, number]> = {
  log: [0.1, 4],
  sqrt: [0.1, 4],
  rsqrt: [0.1, 4],
  reciprocal: [0.5, 3],
  exp: [-4, 4],
};
const unaryFn = (name: string): ((x: Tensor) => Tensor) => {
  if (name === 'gelu_tanh') return (x) => ops.gelu(x, 'tanh');
  if (name === 'gelu_erf') return (x) => ops.gelu(x, 'erf');
  return ops[name as 'exp'] as (x: Tensor) => Tensor;
};

describe('unary ops: WebGPU matches the float64 reference', () => {
  for (const name of Object.keys(UNARY)) {
    it(name, async () => {
      const rand = rng(name.length * 31 + 1);
      const [lo, hi] = DOMAIN[name] ?? [-3, 3];
      // Round, floor, ceil and sign are step functions: sample away from their steps.
      const vals = uniformValues(rand, 7 * 5, lo, hi).map((v) =>
        ['round', 'floor', 'ceil', 'sign'].includes(name) ? Math.round(v * 4) / 4 + 0.1 : v,
      );
      const [g, r] = onEach([d.gpu, d.ref], vals, [7, 5]);
      // Transposed input exercises strided reads.
      const fn = unaryFn(name);
      const gy = fn(ops.transpose(g!));
      const ry = fn(ops.transpose(r!));
      expectClose(await values(gy), await values(ry), { atol: 2e-6, rtol: 2e-6 }, name);
    });
  }
});

describe('unary gradients', () => {
  for (const [name, def] of Object.entries(UNARY)) {
    if (!def.dwgsl) continue;
    it(`${name}: finite differences on the reference, and WebGPU matches`, async () => {
      const rand = rng(name.length * 7 + 3);
      const [lo, hi] = DOMAIN[name] ?? [-2, 2];
      // Keep away from relu/abs kinks at 0.
      const vals = Array.from(uniformValues(rand, 6, lo, hi), (v) =>
        Math.abs(v) < 0.05 ? v + 0.2 : v,
      );
      await gradCheck(d.ref, unaryFn(name), [{ values: vals, shape: [2, 3] }], {
        atol: 1e-6,
        rtol: 1e-5,
      });
      const [g, r] = onEach([d.gpu, d.ref], vals, [2, 3], 'f32', true);
      ops.sum(unaryFn(name)(g!)).backward();
      ops.sum(unaryFn(name)(r!)).backward();
      expectClose(await values(g!.grad!), await values(r!.grad!), { atol: 1e-5, rtol: 1e-4 }, name);
    });
  }
});

const BINARY_FNS: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add: ops.add,
  sub: ops.sub,
  mul: ops.mul,
  div: ops.div,
  pow: ops.pow,
  maximum: ops.maximum,
  minimum: ops.minimum,
};

/** Two shapes that broadcast together, with size-1 and empty dims. */
const broadcastPair = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
  .chain((base) =>
    fc.tuple(
      fc.constant(base),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.integer({ min: 0, max: base.length }),
    ),
  )
  .map(([base, ones, drop]) => {
    const a = base.map((dim, i) => (ones[i] ? 1 : dim));
    const b = base.slice(drop);
    return [a, b] as const;
  });

describe('binary ops with broadcasting', () => {
  for (const [name, fn] of Object.entries(BINARY_FNS)) {
    it(`${name} over random broadcast shapes`, async () => {
      await fc.assert(
        fc.asyncProperty(broadcastPair, fc.integer(), async ([sa, sb], seed) => {
          const rand = rng(seed);
          const na = sa.reduce((n, x) => n * x, 1);
          const nb = sb.reduce((n, x) => n * x, 1);
          const positive = name === 'pow';
          const va = uniformValues(rand, na, positive ? 0.5 : -2, 2);
          const vb = uniformValues(rand, nb, name === 'div' ? 0.5 : -2, 2);
          const [ga, ra] = onEach([d.gpu, d.ref], va, [...sa]);
          const [gb, rb] = onEach([d.gpu, d.ref], vb, [...sb]);
          const got = fn(ga!, gb!);
          const want = fn(ra!, rb!);
          expect(got.shape).toEqual(want.shape);
          expectClose(await values(got), await values(want), { atol: 1e-5, rtol: 1e-5 }, name);
          for (const t of [ga, ra, gb, rb, got, want]) t!.dispose();
        }),
        { numRuns: 12 },
      );
    });

    it(`${name} gradients (broadcast operands) match finite differences`, async () => {
      const rand = rng(name.length);
      const va = Array.from(uniformValues(rand, 6, 0.6, 2));
      const vb = Array.from(uniformValues(rand, 3, 0.6, 2));
      // maximum/minimum have a kink where a == b; these values never tie.
      await gradCheck(
        d.ref,
        fn,
        [
          { values: va, shape: [2, 3] },
          { values: vb, shape: [3] },
        ],
        { atol: 1e-6, rtol: 1e-5 },
      );
      const [ga, ra] = onEach([d.gpu, d.ref], va, [2, 3], 'f32', true);
      const [gb, rb] = onEach([d.gpu, d.ref], vb, [3], 'f32', true);
      ops.sum(fn(ga!, gb!)).backward();
      ops.sum(fn(ra!, rb!)).backward();
      expectClose(
        await values(ga!.grad!),
        await values(ra!.grad!),
        { atol: 1e-5, rtol: 1e-4 },
        `${name} da`,
      );
      expectClose(
        await values(gb!.grad!),
        await values(rb!.grad!),
        { atol: 1e-5, rtol: 1e-4 },
        `${name} db`,
      );
    });
  }

  it('mixes numbers and tensors, and promotes dtypes', async () => {
    const [g] = onEach([d.gpu], [1, 2, 3], [3], 'i32');
    const half = ops.div(g!, 2);
    expect(half.dtype).toBe('f32');
    expect(await values(half)).toEqual([0.5, 1, 1.5]);
    const plus = ops.add(g!, 1);
    expect(plus.dtype).toBe('i32');
    expect(await values(plus)).toEqual([2, 3, 4]);
    const f = ops.mul(g!, 0.5);
    expect(f.dtype).toBe('f32');
    expect(await values(ops.sub(10, g!))).toEqual([9, 8, 7]);
  });

  it('integer arithmetic wraps like 32-bit hardware on both backends', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const [a] = onEach([dev], [2147483647, -5, 65536], [3], 'i32');
      const [b] = onEach([dev], [1, 3, 65536], [3], 'i32');
      expect(await values(ops.add(a!, b!))).toEqual([-2147483648, -2, 131072]);
      expect(await values(ops.mul(a!, b!))).toEqual([2147483647, -15, 0]);
    }
  });
});

describe('comparisons, where', () => {
  it('comparisons give bool and where selects, on both backends', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const [a, b] = [onEach([dev], [1, 2, 3, 4], [4])[0]!, onEach([dev], [2, 2, 2, 2], [4])[0]!];
      const cmp = { eq: ops.eq, ne: ops.ne, lt: ops.lt, le: ops.le, gt: ops.gt, ge: ops.ge };
      const want = {
        eq: [0, 1, 0, 0],
        ne: [1, 0, 1, 1],
        lt: [1, 0, 0, 0],
        le: [1, 1, 0, 0],
        gt: [0, 0, 1, 1],
        ge: [0, 1, 1, 1],
      };
      for (const [k, fn] of Object.entries(cmp)) {
        const m = fn(a, b);
        expect(m.dtype).toBe('bool');
        expect(await values(m), k).toEqual(want[k as keyof typeof want]);
      }
      const w = ops.where(ops.gt(a, 2), a, ops.neg(a));
      expect(await values(w)).toEqual([-1, -2, 3, 4]);
      expect(await values(ops.where(ops.gt(a, 2), 1, 0))).toEqual([0, 0, 1, 1]);
    }
  });

  it('where gradients flow to the selected operand only', async () => {
    await gradCheck(d.ref, (a, b) => ops.where(ops.gt(a, 0), a, b), [
      { values: [0.5, -0.5, 1.5, -2], shape: [4] },
      { values: [3, 4], shape: [2, 1] },
    ]);
  });
});

describe('casts round to nearest even, bit-exactly on both backends', () => {
  // Ties, subnormals, overflow, ±0, inf and NaN for each 16-bit format.
  const cases = [
    0,
    -0,
    1,
    -1,
    1.0009765625,
    1.00048828125,
    1.00146484375,
    65504,
    65519,
    65520,
    1e6,
    5.96e-8,
    2.98e-8,
    2.99e-8,
    1e-7,
    6.1e-5,
    3.14159265,
    -2.5e-6,
    Infinity,
    -Infinity,
    NaN,
    1.00390625,
    1.005859375,
    3.3895313892515355e38,
  ];
  for (const dtype of ['f16', 'bf16'] as DType[]) {
    it(`f32 → ${dtype} → f32`, async () => {
      const want = cases
        .map((v) => (dtype === 'f16' ? ops.round : ops.round) && v)
        .map((v) => (dtype === 'f16' ? roundF16(v) : roundBf16(v)));
      for (const dev of [d.gpu, d.ref, d.cpu]) {
        const [x] = onEach([dev], cases, [cases.length]);
        const h = ops.cast(x!, dtype);
        expect(h.dtype).toBe(dtype);
        const back = await values(ops.cast(h, 'f32'));
        expect(
          back.map((v) => (Object.is(v, -0) ? '-0' : v)),
          `${dtype} on ${dev.name}`,
        ).toEqual(want.map((v) => (Object.is(v, -0) ? '-0' : v)));
      }
    });
  }

  it('a cast to the same dtype is a tracked view: gradients flow and scope frees it', async () => {
    const [x] = onEach([d.ref], [1, 2], [2], 'f32', true);
    ops.sum(ops.mul(ops.cast(x!, 'f32'), 3)).backward();
    expect(await values(x!.grad!)).toEqual([3, 3]);
  });

  it('float → int truncates toward zero; int → bool is non-zero', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const [x] = onEach([dev], [-2.7, -0.5, 0.5, 2.7, 100.2], [5]);
      expect(await values(ops.cast(x!, 'i32'))).toEqual([-2, 0, 0, 2, 100]);
      expect(await values(ops.cast(ops.cast(x!, 'i32'), 'bool'))).toEqual([1, 0, 0, 1, 1]);
    }
  });

  it('16-bit tensors compute in f32 and round their results', async () => {
    const vals = [0.1, 0.2, 0.3, 100.7];
    for (const dtype of ['f16', 'bf16'] as DType[]) {
      // The float32 reference rounds exactly as the GPU does (f32 result, then to 16 bits).
      const [g, r] = onEach([d.gpu, d.cpu], vals, [4], dtype);
      const gy = ops.add(ops.mul(g!, g!), 1);
      const ry = ops.add(ops.mul(r!, r!), 1);
      expect(gy.dtype).toBe(dtype);
      expect(await values(gy)).toEqual(await values(ry));
      expectClose(
        await values(gy),
        vals.map((v) => v * v + 1),
        { atol: 0, rtol: TOLERANCE[dtype].rtol * 2 },
        dtype,
      );
    }
  });
});

// Independent oracles for 16-bit rounding, from the formats' definitions (not from half.ts).
function roundF16(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return f;
  const a = Math.abs(f);
  if (a >= 65520) return Math.sign(f) * Infinity;
  const e = a < 2 ** -14 ? -14 : Math.floor(Math.log2(a));
  const ulp = 2 ** (e - 10);
  return Math.sign(f) * roundEven(a / ulp) * ulp || (Object.is(f, -0) || f < 0 ? -0 : 0);
}
function roundBf16(v: number): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return f;
  const a = Math.abs(f);
  if (a === 0) return f;
  const e = Math.max(Math.floor(Math.log2(a)), -126);
  const ulp = 2 ** (e - 7);
  const r = roundEven(a / ulp) * ulp;
  return Math.sign(f) * (r >= 2 ** 128 ? Infinity : r);
}
function roundEven(x: number): number {
  const fl = Math.floor(x);
  const diff = x - fl;
  if (diff > 0.5) return fl + 1;
  if (diff < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}
