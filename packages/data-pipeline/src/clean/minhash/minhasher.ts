import { deriveSeed } from '../../random/seed.js';

/**
 * Computes MinHash signatures: for each of `numPerm` hash functions, the minimum hash over a
 * set's elements. Two sets agree at one position with probability equal to their Jaccard
 * similarity, so the share of equal positions estimates it with standard error
 * sqrt(J(1-J)/numPerm).
 *
 * The hash functions are `mix32(x XOR key_i)`: bijections on 32-bit values with full
 * avalanche, keyed by a seeded stream, which order the elements independently enough for
 * MinHash and cost a handful of integer operations each.
 */
export class MinHasher {
  /** Number of hash functions (signature length). */
  readonly numPerm: number;
  private readonly keys: Int32Array;

  /**
   * @param numPerm - signature length, an integer >= 1.
   * @param seed - selects the hash functions; signatures compare only under the same seed.
   */
  constructor(numPerm: number, seed = 1) {
    if (!Number.isInteger(numPerm) || numPerm < 1) {
      throw new RangeError(`MinHasher: numPerm is ${numPerm}; expected an integer >= 1`);
    }
    this.numPerm = numPerm;
    this.keys = new Int32Array(numPerm);
    for (let i = 0; i < numPerm; i++) this.keys[i] = deriveSeed(seed, i) | 0;
  }

  /**
   * The signature of a set of 32-bit element hashes (for example {@link shingleHashes}).
   * The empty set gets all positions equal to 0xffffffff.
   *
   * @param elements - element hashes; repeats are harmless.
   * @returns the signature, `numPerm` unsigned 32-bit minima.
   */
  signature(elements: Uint32Array): Uint32Array {
    const k = this.numPerm;
    const keys = this.keys;
    // mix32 inlined and kept in signed 32-bit arithmetic: values above 2^31 would otherwise
    // leave V8's small-integer path. Flipping the sign bit maps unsigned order onto signed
    // order, so the minimum is the same.
    const sig = new Int32Array(k).fill(0x7fffffff);
    for (let e = 0; e < elements.length; e++) {
      const x = elements[e]! | 0;
      for (let i = 0; i < k; i++) {
        let h = x ^ keys[i]!;
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h = h ^ (h >>> 16) ^ 0x80000000;
        if (h < sig[i]!) sig[i] = h;
      }
    }
    const out = new Uint32Array(k);
    for (let i = 0; i < k; i++) out[i] = (sig[i]! ^ 0x80000000) >>> 0;
    return out;
  }
}

/**
 * Estimated Jaccard similarity of two sets from their MinHash signatures.
 *
 * @param a - a signature.
 * @param b - a signature of the same length, from the same {@link MinHasher}.
 * @returns the share of positions where they agree.
 */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `estimateJaccard: signatures have lengths ${a.length} and ${b.length}; expected equal non-zero lengths`,
    );
  }
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}
