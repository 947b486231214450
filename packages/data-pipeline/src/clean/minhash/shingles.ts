import { combine32 } from '../../hash/mix32.js';

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The words that near-deduplication compares: lower-cased runs of letters and digits, so
 * that punctuation, case and white space do not hide a copy (FineWeb's normalisation).
 *
 * @param text - any text.
 * @returns the words in order.
 */
export function shingleWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

// FNV-1a over UTF-16 code units: the words only need distinct hashes within this module,
// and skipping UTF-8 encoding makes shingling several times faster.
function wordHash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Hashes of the word n-grams ("shingles") of a text, one 32-bit hash per position. A text
 * with fewer than `n` words yields one shingle of all its words; an empty text none.
 * Repeated shingles repeat in the output; MinHash ignores repeats.
 *
 * @param text - any text.
 * @param n - words per shingle, an integer >= 1.
 * @returns the shingle hashes.
 */
export function shingleHashes(text: string, n: number): Uint32Array {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`shingleHashes: n is ${n}; expected an integer >= 1`);
  }
  const words = shingleWords(text);
  if (words.length === 0) return new Uint32Array(0);
  const wordHashes = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) wordHashes[i] = wordHash(words[i]!);
  const count = Math.max(1, words.length - n + 1);
  const width = Math.min(n, words.length);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let h = width;
    for (let k = 0; k < width; k++) h = combine32(h, wordHashes[i + k]!);
    out[i] = h;
  }
  return out;
}
