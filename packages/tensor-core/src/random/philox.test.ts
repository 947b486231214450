import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED, Generator, defaultGenerator, manualSeed, philoxStart } from './generator.js';
import { mulhi32, normalsOfBlock, philox4x32, philoxStream, uniformOfWord } from './philox.js';

/** Random123 `tests/kat_vectors`, "philox4x32 10" lines: counter words, key words, output words. */
const KAT: [number[], number[], number[]][] = [
  [
    [0, 0, 0, 0],
    [0, 0],
    [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
  ],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

/** An independent Philox4x32-10 in BigInt arithmetic (slow and direct), as the oracle. */
function philoxBigInt(ctr: number[], key: number[]): number[] {
  const M = 0xffffffffn;
  let x = ctr.map(BigInt);
  let k = key.map(BigInt);
  for (let r = 0; r < 10; r++) {
    if (r > 0) k = [(k[0]! + 0x9e3779b9n) & M, (k[1]! + 0xbb67ae85n) & M];
    const p0 = 0xd2511f53n * x[0]!;
    const p1 = 0xcd9e8d57n * x[2]!;
    x = [(p1 >> 32n) ^ x[1]! ^ k[0]!, p1 & M, (p0 >> 32n) ^ x[3]! ^ k[1]!, p0 & M];
  }
  return x.map(Number);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('philox4x32', () => {
  it('matches the Random123 known-answer vectors', () => {
    for (const [ctr, key, want] of KAT) {
      const got = philox4x32(ctr[0]!, ctr[1]!, ctr[2]!, ctr[3]!, key[0]!, key[1]!);
      expect(Array.from(got)).toEqual(want);
    }
  });

  it('matches a BigInt implementation on random counters and keys', () => {
    fc.assert(
      fc.property(fc.array(u32, { minLength: 6, maxLength: 6 }), (w) => {
        const got = Array.from(philox4x32(w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!));
        expect(got).toEqual(philoxBigInt(w.slice(0, 4), w.slice(4)));
      }),
      { numRuns: 300 },
    );
  });

  it('computes the exact high word of 32×32-bit products', () => {
    const edges = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
    for (const a of edges)
      for (const b of edges) expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('philoxStream', () => {
  it('gives element i word i % 4 of block offset + floor(i/4), carrying into counter word 1', () => {
    const start = { key: [7, 9] as const, counter: [0xfffffffe, 5, 11, 13] as const };
    const out = philoxStream(start, new Uint32Array(13));
    for (let i = 0; i < 13; i++) {
      const ctr = BigInt(0xfffffffe) + 5n * 2n ** 32n + BigInt(Math.floor(i / 4));
      const block = philoxBigInt([Number(ctr & 0xffffffffn), Number(ctr >> 32n), 11, 13], [7, 9]);
      expect(out[i]).toBe(block[i % 4]);
    }
  });

  it('wraps the 64-bit counter', () => {
    const start = { key: [1, 2] as const, counter: [0xffffffff, 0xffffffff, 3, 4] as const };
    const out = philoxStream(start, new Uint32Array(8));
    expect(Array.from(out.subarray(4))).toEqual(philoxBigInt([0, 0, 3, 4], [1, 2]));
  });
});

describe('value maps', () => {
  it('uniforms are the top 24 bits times 2^-24', () => {
    expect(uniformOfWord(0)).toBe(0);
    expect(uniformOfWord(0xffffffff)).toBe(1 - 2 ** -24);
    expect(uniformOfWord(0x80000000)).toBe(0.5);
    expect(Math.fround(uniformOfWord(0x12345678))).toBe(uniformOfWord(0x12345678));
  });

  it('Box–Muller normals follow the documented formula and stay finite', () => {
    const z = normalsOfBlock([0, 0x80000000, 0xffffffff, 0x40000000], new Float64Array(4));
    // u1 = 2^-24 (the smallest), θ = π.
    const r0 = Math.sqrt(-2 * Math.log(2 ** -24));
    expect(z[0]).toBeCloseTo(-r0, 12);
    expect(z[1]).toBeCloseTo(0, 12);
    expect(Math.abs(z[0]!)).toBeLessThan(5.77);
    // u1 = 1: radius 0.
    expect(Math.abs(z[2]!)).toBe(0);
    expect(Math.abs(z[3]!)).toBe(0);
  });
});

describe('Generator', () => {
  it('reserves ceil(n/4) counters per call', () => {
    const g = new Generator(42);
    expect(g.next(10)).toEqual({ seed: 42n, stream: 0n, offset: 0n });
    expect(g.next(1)).toEqual({ seed: 42n, stream: 0n, offset: 3n });
    expect(g.next(0)).toEqual({ seed: 42n, stream: 0n, offset: 4n });
    expect(g.offset).toBe(4n);
  });

  it('round-trips its state through JSON exactly', () => {
    const g = new Generator(2n ** 64n - 5n, { stream: 2n ** 40n + 3n });
    g.next(123456789);
    const saved = JSON.parse(JSON.stringify(g.state())) as ReturnType<Generator['state']>;
    const a = g.next(8);
    const h = new Generator(1).setState(saved);
    expect(h.next(8)).toEqual(a);
    expect(h.state()).toEqual(g.state());
    const c = g.clone();
    expect(c.next(4)).toEqual(g.next(4));
  });

  it('wraps the offset modulo 2^64', () => {
    const g = new Generator(0).setState({
      algorithm: 'philox4x32-10',
      seed: '0',
      stream: '0',
      offset: (2n ** 64n - 1n).toString(),
    });
    g.next(8);
    expect(g.offset).toBe(1n);
  });

  it('maps seed, stream and offset to key and counter words', () => {
    const start = philoxStart({
      seed: 0x299f31d0a4093822n,
      stream: 0x0370734413198a2en,
      offset: 0x85a308d3243f6a88n,
    });
    expect(start.key).toEqual([0xa4093822, 0x299f31d0]);
    expect(start.counter).toEqual([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]);
  });

  it('rejects bad seeds and states with messages naming the argument', () => {
    expect(() => new Generator(-1)).toThrow(/Generator: seed: got -1/);
    expect(() => new Generator(1.5)).toThrow(/seed/);
    expect(() => new Generator(2n ** 64n)).toThrow(/\[0, 2\^64\)/);
    expect(() => new Generator(0).next(-1)).toThrow(/n is -1/);
    const g = new Generator(0);
    expect(() =>
      g.setState({ algorithm: 'philox4x32-10', seed: 'x', stream: '0', offset: '0' }),
    ).toThrow(/state.seed/);
    expect(() =>
      g.setState({ algorithm: 'mt' as 'philox4x32-10', seed: '0', stream: '0', offset: '0' }),
    ).toThrow(/algorithm/);
  });

  it('manualSeed resets the default generator', () => {
    const before = defaultGenerator().state();
    try {
      manualSeed(5);
      defaultGenerator().next(40);
      expect(manualSeed(5).state()).toEqual({
        algorithm: 'philox4x32-10',
        seed: '5',
        stream: '0',
        offset: '0',
      });
      expect(new Generator().seed).toBe(0n);
      expect(DEFAULT_SEED).toBeGreaterThan(0);
    } finally {
      defaultGenerator().setState(before);
    }
  });
});
