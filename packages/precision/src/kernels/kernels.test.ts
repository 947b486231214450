import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Device,
  Generator,
  cast,
  executeInPlace,
  fromArray,
  randomBits,
  scope,
  zeros,
} from '@fathom/tensor-core';
import { openTestDevices, rng, type TestDevices } from '@fathom/tensor-core/testing';
import { unscaleAndCount } from '../unscale.js';
import { ROUND_INTO, registerRoundKernels } from './round-kernels.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
  registerRoundKernels();
});
afterAll(() => d.close());

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => ((f32[0] = x), u32[0]!);
const fromBits = (b: number): number => ((u32[0] = b >>> 0), f32[0]!);
const nextUp = (x: number): number =>
  x === 0 ? 2 ** -149 : fromBits(x > 0 ? bitsOf(x) + 1 : bitsOf(x) - 1);
const nextDown = (x: number): number => -nextUp(-x);

// Oracles written from the IEEE 754 binary16 and bfloat16 layouts, independent of tensor-core's half.ts.
function f16Value(code: number): number {
  const s = code & 0x8000 ? -1 : 1;
  const e = (code >> 10) & 0x1f;
  const m = code & 0x3ff;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}
const F16_POS = Array.from({ length: 0x7c01 }, (_, c) => f16Value(c)); // 0 … +inf, increasing

/** Nearest f16 by binary search, ties to the even code; 65520 (the tie above max) goes to inf. */
function oracleF16(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? -1 : 1;
  if (a >= 65520) return sign * Infinity;
  let lo = 0;
  let hi = 0x7bff;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (F16_POS[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - F16_POS[lo]!;
  const dh = F16_POS[hi]! - a;
  const code = dl < dh || (dl === dh && lo % 2 === 0) ? lo : hi;
  return sign * F16_POS[code]!;
}

/** Nearest bf16: the two candidates around the f32 pattern's top half, ties to the even one. */
function oracleBf16(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const b = bitsOf(x);
  const low = b & 0xffff;
  const down = (b >>> 16) & 0xffff;
  const up = down + 1;
  const pick = low > 0x8000 || (low === 0x8000 && down % 2 === 1) ? up : down;
  return fromBits(pick << 16);
}

function f16Probes(): number[] {
  const out: number[] = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    65504,
    65519.99,
    65520,
    65536,
    1e-8,
    2 ** -25,
    3 * 2 ** -26,
    1e-30,
  ];
  for (let c = 0; c < 0x7bff; c++) {
    const v = F16_POS[c]!;
    const mid = (v + F16_POS[c + 1]!) / 2;
    out.push(v, mid, nextUp(mid), nextDown(mid));
  }
  return [...out, ...out.map((v) => -v)].map(Math.fround);
}

function bf16Probes(): number[] {
  const r = rng(11);
  const out: number[] = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    3.4e38,
    fromBits(0x7f7f8000),
    fromBits(0x7f7f7fff),
    1e-40,
    1e-45,
  ];
  for (let e = 0; e < 255; e++) {
    for (let k = 0; k < 6; k++) {
      const hi = (e << 7) | Math.floor(r() * 128);
      for (const low of [0, 0x7fff, 0x8000, 0x8001, Math.floor(r() * 0x10000)])
        out.push(fromBits((hi << 16) | low));
    }
  }
  // An even and an odd top half at an exact tie.
  out.push(fromBits(0x3f808000), fromBits(0x3f818000));
  return [...out, ...out.map((v) => -v)];
}

async function roundInto(
  device: Device,
  xs: number[],
  dtype: 'f16' | 'bf16',
): Promise<Float32Array | Float64Array> {
  return scope(async () => {
    const m = fromArray(xs, [xs.length], { device });
    const p = zeros([xs.length], { device, dtype });
    executeInPlace(ROUND_INTO, [m], [p], { mode: 'nearest' });
    return (await p.toArray()) as Float32Array;
  });
}

function expectSame(
  got: ArrayLike<number>,
  xs: number[],
  oracle: (x: number) => number,
  what: string,
): void {
  xs.forEach((x, i) => {
    const want = oracle(x);
    const ok = (Number.isNaN(want) && Number.isNaN(got[i]!)) || Object.is(got[i], want);
    if (!ok) expect(got[i], `${what}: input ${x} (bits 0x${bitsOf(x).toString(16)})`).toBe(want);
  });
}

describe('f32 → f16 / bf16, bit-exact against oracles in this test', () => {
  it('master → f16: every value, midpoint and neighbour, subnormals, overflow, ±0, ±inf, NaN', async () => {
    const xs = f16Probes();
    for (const device of [d.gpu, d.cpu])
      expectSame(await roundInto(device, xs, 'f16'), xs, oracleF16, `${device.name} round_into`);
    // tensor-core's cast agrees (it is what autocast uses).
    const viaCast = await scope(() =>
      cast(fromArray(xs, [xs.length], { device: d.gpu }), 'f16').toArray(),
    );
    expectSame(viaCast, xs, oracleF16, 'cast');
  });

  it('master → bf16: ties to even, subnormals, overflow to inf, NaN stays NaN', async () => {
    const xs = bf16Probes();
    for (const device of [d.gpu, d.cpu])
      expectSame(await roundInto(device, xs, 'bf16'), xs, oracleBf16, `${device.name} round_into`);
    const viaCast = await scope(() =>
      cast(fromArray(xs, [xs.length], { device: d.gpu }), 'bf16').toArray(),
    );
    expectSame(viaCast, xs, oracleBf16, 'cast');
  });

  it('f16 → f32 of every finite code is exact', async () => {
    const vals = F16_POS.slice(0, 0x7c00).flatMap((v) => [v, -v]);
    const back = await scope(() =>
      cast(fromArray(vals, [vals.length], { device: d.gpu, dtype: 'f16' }), 'f32').toArray(),
    );
    vals.forEach((v, i) => expect(Object.is(back[i], v) || back[i] === v).toBe(true));
  });

  it('an odd element count leaves the neighbouring half-word alone', async () => {
    await scope(async () => {
      const p = fromArray([7, 7, 7], [3], { device: d.gpu, dtype: 'bf16' });
      const m = fromArray([1.5, 2.5], [2], { device: d.gpu });
      // Write into the first two elements only, through a narrower view of the same storage.
      const view = p.view([2], [1], 0);
      executeInPlace(ROUND_INTO, [m], [view], { mode: 'nearest' });
      expect(Array.from(await p.toArray())).toEqual([1.5, 2.5, 7]);
    });
  });
});

describe('stochastic rounding to bf16', () => {
  /** Rounds away from zero when low half + random low half carries past 2^16. */
  function oracleSr(x: number, r: number): number {
    const b = bitsOf(x);
    const carry = (b & 0xffff) + (r & 0xffff) >= 0x10000 ? 1 : 0;
    return fromBits((((b >>> 16) + carry) & 0xffff) << 16);
  }

  it('matches the carry rule with Philox bits, on webgpu and reference alike', async () => {
    const r = rng(3);
    const xs = Array.from({ length: 4099 }, () =>
      Math.fround((r() - 0.5) * 2 ** Math.floor(r() * 40 - 20)),
    );
    const results: number[][] = [];
    for (const device of [d.gpu, d.cpu]) {
      results.push(
        await scope(async () => {
          const bits = randomBits([xs.length], { generator: new Generator(42), device });
          const host = await bits.toArray();
          const m = fromArray(xs, [xs.length], { device });
          const p = zeros([xs.length], { device, dtype: 'bf16' });
          executeInPlace(ROUND_INTO, [m, bits], [p], { mode: 'stochastic' });
          const got = Array.from(await p.toArray());
          xs.forEach((x, i) => expect(got[i], `${device.name} ${x}`).toBe(oracleSr(x, host[i]!)));
          return got;
        }),
      );
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('is unbiased: the mean of many roundings is the f32 value', async () => {
    const x = 1 + 2 ** -9; // a quarter of the way from 1 to the next bf16 value, 1 + 2^-7
    const n = 40000;
    const mean = await scope(async () => {
      const m = fromArray(new Float32Array(n).fill(x), [n], { device: d.gpu });
      const p = zeros([n], { device: d.gpu, dtype: 'bf16' });
      executeInPlace(
        ROUND_INTO,
        [m, randomBits([n], { generator: new Generator(7), device: d.gpu })],
        [p],
        {
          mode: 'stochastic',
        },
      );
      const v = await p.toArray();
      return Array.from(v).reduce((a, b) => a + b, 0) / n;
    });
    // P(up) = 1/4; the standard error of the mean is 2^-7·√(3/16)/√n ≈ 1.7e-5.
    expect(Math.abs(mean - x)).toBeLessThan(4 * 1.7e-5);
  });
});

describe('unscaleAndCount', () => {
  it('unscales in place and counts gradients with inf or NaN, on webgpu and reference', async () => {
    for (const device of [d.gpu, d.cpu]) {
      await scope(async () => {
        const clean = fromArray([2, -4, 6e-8, 1024], [4], { device });
        const withInf = fromArray([1, Infinity, 3], [3], { device });
        const withNaN = fromArray(
          new Float32Array(1000).fill(1).map((v, i) => (i === 777 ? NaN : v)),
          [1000],
          { device },
        );
        const count = unscaleAndCount([clean, withInf, withNaN], 1 / 1024);
        expect(await count.item()).toBe(2);
        expect(Array.from(await clean.toArray())).toEqual([
          2 / 1024,
          -4 / 1024,
          Math.fround(6e-8 / 1024),
          1,
        ]);
        const c2 = unscaleAndCount([clean], 1);
        expect(await c2.item()).toBe(0);
        // Overflow caused by unscaling itself (a scale below 1) counts too.
        const big = fromArray([3e38], [1], { device });
        expect(await unscaleAndCount([big, clean], 4).item()).toBe(1);
      });
    }
  });

  it('rejects bad arguments', async () => {
    await scope(async () => {
      const g = fromArray([1], [1], { device: d.gpu, dtype: 'bf16' });
      expect(() => unscaleAndCount([g], 1)).toThrow(/grads\[0\] has dtype bf16; expected f32/);
      expect(() => unscaleAndCount([], 1)).toThrow(/grads is empty/);
      expect(() => unscaleAndCount([fromArray([1], [1], { device: d.gpu })], 0)).toThrow(
        /invScale is 0/,
      );
    });
  });
});
