import { beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../random/xoshiro128.js';
import {
  estimateJaccard,
  lshCandidateProbability,
  MinHasher,
  MinHashLshIndex,
  minhashDedup,
  optimalLshParams,
  shingleHashes,
  shingleWords,
} from './index.js';

// Exact Jaccard similarity of word 5-gram sets, computed on the strings themselves.
function exactJaccard(a: string, b: string, n = 5): number {
  const grams = (t: string): Set<string> => {
    const w = shingleWords(t);
    const out = new Set<string>();
    for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(' '));
    return out;
  };
  const A = grams(a);
  const B = grams(b);
  let inter = 0;
  for (const g of A) if (B.has(g)) inter++;
  return inter / (A.size + B.size - inter);
}

interface Pair {
  base: string;
  edit: string;
  jaccard: number;
}

// Random documents of 200 words from a 5000-word vocabulary, each paired with a copy that
// has 0 to 24 random word substitutions, which spreads the Jaccard similarity over (0.35, 1].
function makePairs(count: number, seed: number): Pair[] {
  const rng = new Xoshiro128(seed);
  const vocab = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
  const pairs: Pair[] = [];
  for (let p = 0; p < count; p++) {
    const words = Array.from({ length: 200 }, () => vocab[rng.nextInt(vocab.length)]!);
    const edited = [...words];
    const edits = rng.nextInt(25);
    for (let e = 0; e < edits; e++)
      edited[rng.nextInt(edited.length)] = vocab[rng.nextInt(vocab.length)]!;
    const base = words.join(' ');
    const edit = edited.join(' ');
    pairs.push({ base, edit, jaccard: exactJaccard(base, edit) });
  }
  return pairs;
}

// Feeds all bases, then all edits, through one dedup step; returns which edits were removed.
function removedEdits(pairs: Pair[], options: Parameters<typeof minhashDedup>[0]): boolean[] {
  const step = minhashDedup(options);
  pairs.forEach((p, i) => expect(step.apply({ id: `base${i}`, text: p.base }).action).toBe('keep'));
  return pairs.map((p, i) => step.apply({ id: `edit${i}`, text: p.edit }).action === 'remove');
}

// P(X >= k) for X ~ Binomial(n, p), summed directly.
function binomialTail(n: number, p: number, k: number): number {
  if (p >= 1) return 1;
  let term = (1 - p) ** n; // P(X = 0)
  let tail = 0;
  for (let x = 0; x <= n; x++) {
    if (x >= k) tail += term;
    term = (term * (n - x) * p) / ((x + 1) * (1 - p));
  }
  return tail;
}

let pairs: Pair[];
beforeAll(() => {
  pairs = makePairs(500, 11);
});

describe('MinHash signatures', () => {
  it('estimate the exact Jaccard similarity within the expected error', () => {
    const hasher = new MinHasher(128, 3);
    let sqErr = 0;
    let bias = 0;
    for (const p of pairs) {
      const est = estimateJaccard(
        hasher.signature(shingleHashes(p.base, 5)),
        hasher.signature(shingleHashes(p.edit, 5)),
      );
      sqErr += (est - p.jaccard) ** 2;
      bias += est - p.jaccard;
    }
    // Standard error is sqrt(J(1-J)/128) <= 0.044.
    expect(Math.sqrt(sqErr / pairs.length)).toBeLessThan(0.05);
    expect(Math.abs(bias / pairs.length)).toBeLessThan(0.01);
  });

  it('shingle short texts as one shingle and ignore case and punctuation', () => {
    expect(shingleHashes('', 5)).toHaveLength(0);
    expect(shingleHashes('two words', 5)).toHaveLength(1);
    expect(shingleHashes('A b, C d e f', 5)).toEqual(shingleHashes('a B c D e F!', 5));
    expect(() => shingleHashes('x', 0)).toThrow(/n is 0/);
  });
});

describe('LSH parameters', () => {
  it('choose datasketch-style optimal bandings', () => {
    expect(optimalLshParams(0.8, 128)).toEqual({ bands: 9, rows: 13 });
    const p = optimalLshParams(0.7, 256);
    expect(p.bands * p.rows).toBeLessThanOrEqual(256);
    // The S-curve crosses one half near the threshold.
    expect(lshCandidateProbability(0.8, { bands: 9, rows: 13 })).toBeGreaterThan(0.35);
    expect(lshCandidateProbability(0.6, { bands: 9, rows: 13 })).toBeLessThan(0.05);
    expect(lshCandidateProbability(0.95, { bands: 9, rows: 13 })).toBeGreaterThan(0.99);
  });

  it('index returns signatures sharing a band', () => {
    const index = new MinHashLshIndex<string>({ bands: 2, rows: 2 });
    index.insert('a', Uint32Array.of(1, 2, 3, 4));
    expect(index.query(Uint32Array.of(1, 2, 9, 9))).toEqual(['a']);
    expect(index.query(Uint32Array.of(1, 9, 3, 9))).toEqual([]);
    expect(() => index.query(Uint32Array.of(1))).toThrow(
      /signature has length 1; expected at least bands \* rows = 4/,
    );
  });
});

describe('minhashDedup', () => {
  it('without verification, removes near duplicates at the rate the S-curve predicts', () => {
    const params = { bands: 9, rows: 13 };
    const removed = removedEdits(pairs, { lsh: params, verify: false, seed: 5 });
    let expected = 0;
    let variance = 0;
    let observed = 0;
    pairs.forEach((p, i) => {
      const q = lshCandidateProbability(p.jaccard, params);
      expected += q;
      variance += q * (1 - q);
      if (removed[i]) observed++;
    });
    expect(Math.abs(observed - expected)).toBeLessThan(4 * Math.sqrt(variance) + 2);
  });

  it('with verification (the default), removes pairs above the threshold and keeps those well below', () => {
    const removed = removedEdits(pairs, {});
    const rate = (lo: number, hi: number): number => {
      const idx = pairs.map((p, i) => [p.jaccard, i] as const).filter(([j]) => j >= lo && j < hi);
      expect(idx.length).toBeGreaterThan(20);
      return idx.filter(([, i]) => removed[i]).length / idx.length;
    };
    // 9 x 13 bands make a pair at J = 0.9 a candidate with probability 0.93, at 0.95 0.998.
    expect(rate(0.9, 1.01)).toBeGreaterThan(0.9);
    expect(rate(0.95, 1.01)).toBeGreaterThan(0.98);
    expect(rate(0, 0.7)).toBeLessThan(0.02);
    // Removal needs a band match (probability S(J)) and an estimate >= 0.8, so the count lies
    // between sum S(J) * P(Binomial(128, J) >= 103) and sum S(J).
    const params = { bands: 9, rows: 13 };
    let upper = 0;
    let lower = 0;
    let variance = 0;
    for (const p of pairs) {
      const s = lshCandidateProbability(p.jaccard, params);
      upper += s;
      lower += s * binomialTail(128, p.jaccard, Math.ceil(0.8 * 128));
      variance += s * (1 - s);
    }
    const observed = removed.filter(Boolean).length;
    expect(observed).toBeLessThanOrEqual(upper + 4 * Math.sqrt(variance));
    expect(observed).toBeGreaterThanOrEqual(lower - 4 * Math.sqrt(variance));
  });

  it('keeps unrelated documents and reports the match', () => {
    const step = minhashDedup();
    const a = pairs[0]!.base;
    expect(step.apply({ id: 'a', text: a }).action).toBe('keep');
    expect(step.apply({ id: 'b', text: pairs[1]!.base }).action).toBe('keep');
    const again = step.apply({ id: 'c', text: `${a} extra` });
    expect(again).toMatchObject({ action: 'remove', reason: 'near-duplicate' });
    expect(again.action === 'remove' && again.detail).toMatch(
      /^estimated Jaccard (0\.9\d\d|1\.000) with a$/,
    );
    expect(() => minhashDedup({ numPerm: 64, lsh: { bands: 9, rows: 13 } })).toThrow(
      /expected at most numPerm = 64/,
    );
  });
});
