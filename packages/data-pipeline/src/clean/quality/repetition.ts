import { mix32 } from '../../hash/mix32.js';

/** Repeated elements of a list, as Gopher's repetition filter measures them. */
export interface DuplicateStats {
  /** Elements equal to an earlier element. */
  duplicates: number;
  /** Characters in those repeated elements. */
  duplicateChars: number;
}

/**
 * Counts the elements of a list that repeat an earlier element, and their characters.
 *
 * @param items - lines or paragraphs.
 * @returns the counts.
 */
export function findDuplicates(items: readonly string[]): DuplicateStats {
  const seen = new Set<string>();
  let duplicates = 0;
  let duplicateChars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      duplicates++;
      duplicateChars += item.length;
    } else {
      seen.add(item);
    }
  }
  return { duplicates, duplicateChars };
}

/**
 * A text's words prepared for n-gram statistics: each word becomes a small integer and each
 * n-gram a 53-bit key built from two independent 32-bit hashes of its word ids, so counting
 * n-grams for n = 2..10 costs integer work, not string building. Two different n-grams of
 * one document share a key with probability about 2^-53 per pair.
 */
export class WordNgrams {
  private readonly ids: Int32Array;
  private readonly prefixChars: Float64Array;
  private readonly hashes: { h1: Int32Array; h2: Int32Array }[] = [];

  /** @param words - the text's words. */
  constructor(readonly words: readonly string[]) {
    const vocab = new Map<string, number>();
    this.ids = new Int32Array(words.length);
    this.prefixChars = new Float64Array(words.length + 1);
    words.forEach((w, i) => {
      let id = vocab.get(w);
      if (id === undefined) vocab.set(w, (id = vocab.size));
      this.ids[i] = id;
      this.prefixChars[i + 1] = this.prefixChars[i]! + w.length;
    });
  }

  /**
   * Characters covered by the most frequent n-gram, counted over all its occurrences; 0 when
   * no n-gram occurs twice. Gopher compares this with the text length.
   *
   * @param n - n-gram length.
   * @returns characters of the top n-gram (its words' lengths, without spaces) times its count.
   */
  topNgramChars(n: number): number {
    const counts = new Map<number, number>();
    let best = 0;
    let bestChars = 0;
    const keys = this.keys(n);
    for (let i = 0; i < keys.length; i++) {
      const count = (counts.get(keys[i]!) ?? 0) + 1;
      counts.set(keys[i]!, count);
      const chars = this.chars(i, n);
      if (count > best || (count === best && chars > bestChars)) {
        best = count;
        bestChars = chars;
      }
    }
    return best > 1 ? best * bestChars : 0;
  }

  /**
   * Characters inside n-grams that repeat an earlier n-gram. After a repeat the scan jumps
   * past it, so overlapping repeats are not counted twice (Gopher's rule).
   *
   * @param n - n-gram length.
   * @returns characters (words' lengths, without spaces) in repeated n-grams.
   */
  duplicateNgramChars(n: number): number {
    const keys = this.keys(n);
    const seen = new Set<number>();
    let chars = 0;
    let i = 0;
    while (i < keys.length) {
      if (seen.has(keys[i]!)) {
        chars += this.chars(i, n);
        i += n;
      } else {
        seen.add(keys[i]!);
        i++;
      }
    }
    return chars;
  }

  private chars(i: number, n: number): number {
    return this.prefixChars[i + n]! - this.prefixChars[i]!;
  }

  private keys(n: number): Float64Array {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`WordNgrams: n is ${n}; expected an integer >= 1`);
    }
    // The hashes of n-grams extend those of (n-1)-grams by one word, so each n costs one
    // pass over the words whatever its size; passes are cached for the next n.
    while (this.hashes.length < n) {
      const m = this.hashes.length + 1;
      const count = Math.max(0, this.ids.length - m + 1);
      const prev = this.hashes.at(-1);
      const h1 = new Int32Array(count);
      const h2 = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const id = this.ids[i + m - 1]!;
        const a = prev ? prev.h1[i]! : 0x6a09e667;
        const b = prev ? prev.h2[i]! : 0x3c6ef372;
        h1[i] = mix32(a ^ id);
        h2[i] = mix32((b + Math.imul(id, 0x85ebca6b) + 0x7f4a7c15) | 0);
      }
      this.hashes.push({ h1, h2 });
    }
    const { h1, h2 } = this.hashes[n - 1]!;
    const keys = new Float64Array(h1.length);
    for (let i = 0; i < keys.length; i++)
      keys[i] = (h1[i]! & 0x1fffff) * 0x100000000 + (h2[i]! >>> 0);
    return keys;
  }
}

/**
 * {@link WordNgrams.topNgramChars} for a single n.
 *
 * @param words - the text's words.
 * @param n - n-gram length.
 * @returns characters of the top n-gram times its count, or 0.
 */
export function topNgramChars(words: readonly string[], n: number): number {
  return new WordNgrams(words).topNgramChars(n);
}

/**
 * {@link WordNgrams.duplicateNgramChars} for a single n.
 *
 * @param words - the text's words.
 * @param n - n-gram length.
 * @returns characters in repeated n-grams.
 */
export function duplicateNgramChars(words: readonly string[], n: number): number {
  return new WordNgrams(words).duplicateNgramChars(n);
}
