import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveSeed, FeistelPermutation, shuffleInPlace, Xoshiro128 } from './index.js';

describe('Xoshiro128', () => {
  it('matches the reference xoshiro128** outputs', () => {
    // First outputs of the C reference from state [1, 2, 3, 4] (as in rand_xoshiro's tests)
    // and from the state used by the xoshiro-6502 test data.
    const a = Xoshiro128.fromState([1, 2, 3, 4]);
    expect([0, 1, 2, 3, 4].map(() => a.nextUint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883,
    ]);
    const b = Xoshiro128.fromState([0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0]);
    expect([0, 1, 2, 3].map(() => b.nextUint32())).toEqual([
      0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70,
    ]);
  });

  it('resumes exactly from a saved state', () => {
    const g = new Xoshiro128(42);
    for (let i = 0; i < 10; i++) g.nextUint32();
    const saved = JSON.parse(JSON.stringify(g.getState())) as number[];
    const expected = [g.nextUint32(), g.nextFloat(), g.nextInt(7)];
    const h = Xoshiro128.fromState(saved);
    expect([h.nextUint32(), h.nextFloat(), h.nextInt(7)]).toEqual(expected);
  });

  it('draws integers uniformly (chi-square)', () => {
    const g = new Xoshiro128(7);
    const k = 10;
    const n = 50_000;
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) counts[g.nextInt(k)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - n / k) ** 2 / (n / k), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });

  it('gives floats in [0, 1) and rejects bad arguments', () => {
    const g = new Xoshiro128(1);
    for (let i = 0; i < 1000; i++) {
      const x = g.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect(() => new Xoshiro128(-1)).toThrow(/seed: got -1/);
    expect(() => g.nextInt(0)).toThrow(/n is 0/);
    expect(() => Xoshiro128.fromState([0, 0, 0, 0])).toThrow(/not all zero/);
  });
});

describe('deriveSeed', () => {
  it('separates paths and is stable', () => {
    expect(deriveSeed(5, 1)).toBe(deriveSeed(5, 1));
    const seen = new Set<number>();
    for (let s = 0; s < 20; s++) for (let e = 0; e < 20; e++) seen.add(deriveSeed(s, e));
    expect(seen.size).toBe(400);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });
});

describe('FeistelPermutation', () => {
  it('is a permutation of [0, size) for any size and seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.nat(), (size, seed) => {
        const p = new FeistelPermutation(size, seed);
        const seen = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          const v = p.at(i);
          if (v < 0 || v >= size || seen[v]) return false;
          seen[v] = 1;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it('looks shuffled: few fixed points and seeds disagree', () => {
    const n = 10_000;
    const a = new FeistelPermutation(n, 1);
    const b = new FeistelPermutation(n, 2);
    let fixed = 0;
    let same = 0;
    let ascending = 0;
    for (let i = 0; i < n; i++) {
      if (a.at(i) === i) fixed++;
      if (a.at(i) === b.at(i)) same++;
      if (i > 0 && a.at(i) > a.at(i - 1)) ascending++;
    }
    // A random permutation has 1 fixed point on average and half its steps ascending.
    expect(fixed).toBeLessThan(10);
    expect(same).toBeLessThan(10);
    expect(Math.abs(ascending / (n - 1) - 0.5)).toBeLessThan(0.03);
  });

  it('checks its arguments', () => {
    expect(() => new FeistelPermutation(0, 1)).toThrow(/size is 0/);
    expect(() => new FeistelPermutation(5, 1).at(5)).toThrow(
      /index is 5; expected an integer in \[0, 5\)/,
    );
  });
});

describe('shuffleInPlace', () => {
  it('keeps the elements and depends only on the seed', () => {
    const a = shuffleInPlace([...Array(50).keys()], new Xoshiro128(3));
    const b = shuffleInPlace([...Array(50).keys()], new Xoshiro128(3));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });
});
