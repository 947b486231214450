import { describe, expect, it } from 'vitest';
import { rng } from '@fathom/tensor-core/testing';
import { packCodes, unpackCodes } from './packing.js';
import { dequantizeMatrix, quantizeMatrix, scaleCount } from './quantize.js';
import type { QuantScheme } from './scheme.js';

const gaussian = (rand: () => number, n: number): Float64Array =>
  Float64Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  });

describe('packing', () => {
  for (const bits of [4, 8] as const)
    for (const n of [1, 7, 9, 31, 33, 67])
      it(`${bits}-bit round trip of ${n} codes`, () => {
        const rand = rng(n * bits);
        const codes = Array.from({ length: n }, () => Math.floor(rand() * (1 << bits)));
        const words = packCodes(codes, bits);
        expect(words.length).toBe(Math.ceil((n * bits) / 32));
        expect(Array.from(unpackCodes(words, bits, n))).toEqual(codes);
        // Layout: code i at bit (i mod per)·bits of word ⌊i / per⌋, lowest first.
        const per = 32 / bits;
        for (let i = 0; i < n; i++)
          expect((words[Math.floor(i / per)]! >>> ((i % per) * bits)) & ((1 << bits) - 1)).toBe(
            codes[i],
          );
      });
  it('rejects codes out of range and short word arrays', () => {
    expect(() => packCodes([16], 4)).toThrow(/codes\[0\] is 16; expected an integer in \[0, 15\]/);
    expect(() => unpackCodes([0], 4, 9)).toThrow(/words has 1 entries/);
  });
});

const SCHEMES: QuantScheme[] = [
  { kind: 'int8', granularity: 'tensor' },
  { kind: 'int8', granularity: 'channel' },
  { kind: 'int4', groupSize: 32 },
  { kind: 'int4', groupSize: 64 },
  { kind: 'int4', groupSize: 128 },
  { kind: 'mixed', groupSize: 32 },
  { kind: 'mixed', groupSize: 64, percentile: 90 },
];

describe('quantise → dequantise error within scale / 2', () => {
  for (const scheme of SCHEMES)
    for (const [rows, cols] of [
      [5, 37],
      [13, 129],
      [1, 200],
    ] as const)
      it(`${JSON.stringify(scheme)} on [${rows}, ${cols}]`, () => {
        const rand = rng(rows * 1000 + cols);
        const w = gaussian(rand, rows * cols);
        const q = quantizeMatrix(w, rows, cols, scheme);
        const back = dequantizeMatrix(q);
        // Oracle: each element's scale, found independently from the part layout.
        const bound = new Float64Array(rows * cols).fill(NaN);
        for (const p of q.parts) {
          expect(p.scales.length).toBe(scaleCount(p));
          const gc = Math.ceil(p.cols / p.groupSize);
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < p.cols; c++) {
              const col = p.columns ? p.columns[c]! : c;
              bound[r * cols + col] =
                p.scales[Math.floor(r / p.rowBlock) * gc + Math.floor(c / p.groupSize)]! / 2;
            }
        }
        for (let i = 0; i < w.length; i++) {
          expect(Number.isNaN(bound[i]!)).toBe(false);
          expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(bound[i]! * (1 + 1e-6));
        }
        // Scales are the theoretical ones: symmetric amax/127, asymmetric (max−min)/15 (range holding 0).
        const p0 = q.parts[q.parts.length - 1]!;
        if (!p0.symmetric && p0.columns === null) {
          let lo = 0;
          let hi = 0;
          for (let c = 0; c < Math.min(p0.groupSize, cols); c++) {
            lo = Math.min(lo, w[c]!);
            hi = Math.max(hi, w[c]!);
          }
          expect(p0.scales[0]).toBeCloseTo((hi - lo) / 15, 6);
        }
      });

  it('int8 per-channel is at least as accurate as per-tensor on rows of different magnitude', () => {
    const rand = rng(5);
    const rows = 8;
    const cols = 64;
    const w = gaussian(rand, rows * cols).map((v, i) => v * 10 ** (Math.floor(i / cols) % 3));
    const err = (s: QuantScheme): number => {
      const back = dequantizeMatrix(quantizeMatrix(w, rows, cols, s));
      return back.reduce((a, v, i) => a + (v - w[i]!) ** 2, 0);
    };
    expect(err({ kind: 'int8', granularity: 'channel' })).toBeLessThan(
      err({ kind: 'int8', granularity: 'tensor' }),
    );
  });

  it('mixed scheme puts the high-variance columns in 8 bits', () => {
    const rand = rng(9);
    const rows = 16;
    const cols = 40;
    const w = gaussian(rand, rows * cols).map((v, i) => (i % cols < 4 ? v * 20 : v));
    const q = quantizeMatrix(w, rows, cols, { kind: 'mixed', groupSize: 32, percentile: 85 });
    const p8 = q.parts.find((p) => p.bits === 8)!;
    // 85th percentile of 40 columns leaves 6 above it; the 4 scaled columns must be among them.
    expect(p8.columns!.length).toBe(6);
    for (const c of [0, 1, 2, 3]) expect(Array.from(p8.columns!)).toContain(c);
    const p4 = q.parts.find((p) => p.bits === 4)!;
    expect(p4.columns!.length).toBe(34);
  });

  it('keeps zero exact (int4 asymmetric zero-points are integers)', () => {
    const w = Float64Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 0 : Math.sin(i) + 0.5));
    const back = dequantizeMatrix(quantizeMatrix(w, 1, 64, { kind: 'int4', groupSize: 32 }));
    for (let i = 0; i < 64; i += 3) expect(back[i]).toBe(0);
  });

  it('names bad arguments', () => {
    expect(() => quantizeMatrix([1, 2], 1, 3, { kind: 'int4', groupSize: 32 })).toThrow(
      /values has 2 elements; expected rows·cols = 3/,
    );
    expect(() => quantizeMatrix([1], 1, 1, { kind: 'int4', groupSize: 48 as 32 })).toThrow(
      /groupSize is 48; expected 32, 64 or 128/,
    );
    expect(() => quantizeMatrix([NaN], 1, 1, { kind: 'int8', granularity: 'tensor' })).toThrow(
      /values\[0\] is NaN/,
    );
    expect(() => quantizeMatrix([1], 1, 1, { kind: 'fp4' } as never)).toThrow(/kind is "fp4"/);
  });
});
