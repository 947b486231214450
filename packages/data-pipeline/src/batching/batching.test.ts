import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../random/xoshiro128.js';
import {
  bucketBatches,
  DEFAULT_LENGTH_BUCKETS,
  packSequences,
  padBatch,
  paddingReport,
  segmentAttentionMask,
} from './index.js';
import type { LengthBatch, LengthBucket } from './index.js';

// Log-normal lengths (median about 150 tokens, long tail to 8192): the skew of real corpora.
function skewedLengths(n: number, seed: number): number[] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: n }, () => {
    const u1 = Math.max(rng.nextFloat(), 1e-12);
    const u2 = rng.nextFloat();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.min(8192, Math.max(1, Math.round(Math.exp(5 + 1.2 * z))));
  });
}

const seqs = (lengths: number[]) => lengths.map((l, i) => ({ id: i, length: l }));

function checkBatches(
  batches: LengthBatch<{ id: number; length: number }>[],
  lengths: number[],
  opts: {
    tolerance: number;
    maxTokens: number;
    buckets: readonly LengthBucket[];
    maxBatchSize?: number;
  },
): void {
  const seen = new Set<number>();
  for (const b of batches) {
    const bucketPos = opts.buckets.findIndex((k) => k.name === b.bucket);
    const bucket = opts.buckets[bucketPos]!;
    const lower = bucketPos === 0 ? 0 : opts.buckets[bucketPos - 1]!.maxLength;
    expect(b.paddedTokens).toBe(b.items.length * b.maxLength);
    expect(b.paddedTokens).toBeLessThanOrEqual(bucket.maxTokens ?? opts.maxTokens);
    expect(b.items.length).toBeLessThanOrEqual(opts.maxBatchSize ?? Infinity);
    for (const item of b.items) {
      expect(seen.has(item.id)).toBe(false);
      seen.add(item.id);
      expect(item.length).toBeGreaterThan(lower);
      expect(item.length).toBeLessThanOrEqual(bucket.maxLength);
      // Within +-tolerance of the batch centre.
      expect(item.length).toBeGreaterThanOrEqual(b.center * (1 - opts.tolerance) - 1e-9);
      expect(item.length).toBeLessThanOrEqual(b.center * (1 + opts.tolerance) + 1e-9);
    }
  }
  expect(seen.size).toBe(lengths.length);
}

describe('bucketBatches', () => {
  it('respects tolerance and token budget, and wastes far less than fixed-size batches', () => {
    const lengths = skewedLengths(6000, 1);
    const maxTokens = 16384;
    const batches = [
      ...bucketBatches(seqs(lengths), {
        maxTokensPerBatch: maxTokens,
        tolerance: 0.1,
        poolSize: 2000,
        seed: 4,
      }),
    ];
    checkBatches(batches, lengths, { tolerance: 0.1, maxTokens, buckets: DEFAULT_LENGTH_BUCKETS });
    const ours = paddingReport(batches);
    // Naive: batches of 16 in arrival order, padded to the longest.
    const naive = [];
    for (let i = 0; i < lengths.length; i += 16) {
      const group = lengths.slice(i, i + 16);
      naive.push({
        realTokens: group.reduce((s, l) => s + l, 0),
        paddedTokens: group.length * Math.max(...group),
      });
    }
    const baseline = paddingReport(naive);
    expect(baseline.wasteFraction).toBeGreaterThan(0.5);
    expect(ours.wasteFraction).toBeLessThan(0.1);
    expect(ours.realTokens).toBe(baseline.realTokens);
    // Lengths do not arrive sorted: the batch order is shuffled.
    const firstLengths = batches.slice(0, 20).map((b) => b.maxLength);
    expect([...firstLengths].sort((a, b) => a - b)).not.toEqual(firstLengths);
  });

  it('keeps its invariants for any lengths and settings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 200 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 300, max: 3000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        (lengths, tolerance, maxTokens, poolSize, maxBatchSize) => {
          const buckets = [
            { name: 'S', maxLength: 50 },
            { name: 'M', maxLength: 120, maxTokens: Math.max(120, maxTokens >> 1) },
            { name: 'L', maxLength: 300 },
          ];
          const batches = [
            ...bucketBatches(seqs(lengths), {
              maxTokensPerBatch: maxTokens,
              tolerance,
              poolSize,
              buckets,
              maxBatchSize,
            }),
          ];
          checkBatches(batches, lengths, { tolerance, maxTokens, buckets, maxBatchSize });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is deterministic under its seed and names bad input', () => {
    const lengths = skewedLengths(500, 2);
    const ids = (seed: number) =>
      [...bucketBatches(seqs(lengths), { maxTokensPerBatch: 16384, seed })].map((b) =>
        b.items.map((i) => i.id),
      );
    expect(ids(3)).toEqual(ids(3));
    expect(ids(3)).not.toEqual(ids(4));
    expect(() => [
      ...bucketBatches([new Array(9000).fill(0)], { maxTokensPerBatch: 16384 }),
    ]).toThrow(/length 9000; expected at most the largest bucket's maxLength 8192/);
    expect([
      ...bucketBatches([new Array(9000).fill(0)], { maxTokensPerBatch: 16384, oversize: 'skip' }),
    ]).toEqual([]);
    expect(() => [...bucketBatches([], { maxTokensPerBatch: 100 })]).toThrow(
      /bucket S has a token budget of 100; expected at least its maxLength 128/,
    );
  });
});

describe('padBatch', () => {
  it('pads right or left with a matching attention mask', () => {
    const right = padBatch([[1, 2, 3], [4]], { padId: 9, multipleOf: 4 });
    expect(right.length).toBe(4);
    expect(Array.from(right.tokens)).toEqual([1, 2, 3, 9, 4, 9, 9, 9]);
    expect(Array.from(right.attentionMask)).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(right.lengths)).toEqual([3, 1]);
    expect([right.realTokens, right.paddedTokens]).toEqual([4, 8]);
    const left = padBatch([[1, 2, 3], [4]], { side: 'left' });
    expect(Array.from(left.tokens)).toEqual([1, 2, 3, 0, 0, 4]);
    expect(Array.from(left.attentionMask)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(() => padBatch([[1, 2]], { length: 1 })).toThrow(
      /options.length is 1; expected an integer >= the longest sequence \(2\)/,
    );
  });
});

describe('packSequences', () => {
  const arb = fc.array(
    fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 70 }),
    { maxLength: 40 },
  );

  it('places every token once, with segment ids and positions per document', () => {
    fc.assert(
      fc.property(
        arb,
        fc.integer({ min: 8, max: 64 }),
        fc.constantFrom('first-fit-decreasing', 'in-order') as fc.Arbitrary<
          'first-fit-decreasing' | 'in-order'
        >,
        (docs, L, strategy) => {
          const packed = packSequences(docs, { sequenceLength: L, strategy, padId: -1 });
          const total = docs.reduce((s, d) => s + d.length, 0);
          expect(packed.realTokens).toBe(total);
          expect(packed.rows).toBeGreaterThanOrEqual(Math.ceil(total / L));
          // Rebuild each document from its pieces, in offset order.
          const rebuilt = docs.map(() => [] as number[]);
          for (const p of packed.placements) {
            const base = p.row * L + p.column;
            rebuilt[p.sequence]!.push(...packed.tokens.subarray(base, base + p.length));
            for (let k = 0; k < p.length; k++) expect(packed.positions[base + k]).toBe(k);
          }
          expect(rebuilt).toEqual(docs.map((d) => [...d]));
          // Padding has segment 0 and the pad id; segments increase along each row.
          for (let r = 0; r < packed.rows; r++) {
            let last = 0;
            for (let c = 0; c < L; c++) {
              const s = packed.segmentIds[r * L + c]!;
              if (s === 0) expect(packed.tokens[r * L + c]).toBe(-1);
              else {
                expect(s === last || s === last + 1).toBe(true);
                last = s;
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('first-fit-decreasing uses no more rows than in-order packing', () => {
    const rng = new Xoshiro128(5);
    const docs = Array.from({ length: 300 }, () => new Array(1 + rng.nextInt(200)).fill(1));
    const ffd = packSequences(docs, { sequenceLength: 256 });
    const inOrder = packSequences(docs, { sequenceLength: 256, strategy: 'in-order' });
    expect(ffd.rows).toBeLessThanOrEqual(inOrder.rows);
    expect(paddingReport([ffd]).wasteFraction).toBeLessThan(0.05);
    expect(() => packSequences([[1, 2, 3]], { sequenceLength: 2, splitLong: false })).toThrow(
      /sequences\[0\] has length 3/,
    );
  });

  it('builds the block-causal attention mask of a row', () => {
    const packed = packSequences(
      [
        [1, 2, 3],
        [4, 5],
      ],
      { sequenceLength: 6, strategy: 'in-order' },
    );
    const L = 6;
    const seg = packed.segmentIds;
    const mask = segmentAttentionMask(seg, L, 0);
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++) {
        const allowed = j <= i && seg[i] !== 0 && seg[i] === seg[j];
        expect(mask[i * L + j]).toBe(allowed ? 1 : 0);
      }
    }
    expect(Array.from(seg)).toEqual([1, 1, 1, 2, 2, 0]);
  });
});
