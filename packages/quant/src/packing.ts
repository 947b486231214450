/**
 * Packing integer codes into u32 words: with `bits` = 4, eight codes per word;
 * with 8, four. Code i sits at bit (i mod per-word)·bits of word ⌊i / per-word⌋,
 * lowest bits first; the last word's unused bits are zero.
 */

/** Bits per code that packing supports. */
export type CodeBits = 4 | 8;

function checkBits(bits: number, where: string): asserts bits is CodeBits {
  if (bits !== 4 && bits !== 8) throw new RangeError(`${where}: bits is ${bits}; expected 4 or 8`);
}

/** Number of u32 words holding `n` codes of `bits` bits. */
export function packedWords(n: number, bits: CodeBits): number {
  return Math.ceil((n * bits) / 32);
}

/** Packs codes (integers in [0, 2^bits)) into u32 words. */
export function packCodes(codes: ArrayLike<number>, bits: CodeBits): Uint32Array {
  checkBits(bits, 'packCodes');
  const per = 32 / bits;
  const max = (1 << bits) - 1;
  const words = new Uint32Array(packedWords(codes.length, bits));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < 0 || c > max)
      throw new RangeError(`packCodes: codes[${i}] is ${c}; expected an integer in [0, ${max}]`);
    const w = Math.floor(i / per);
    words[w] = (words[w]! | (c << ((i % per) * bits))) >>> 0;
  }
  return words;
}

/** Unpacks the first `n` codes of `bits` bits from u32 words. */
export function unpackCodes(words: ArrayLike<number>, bits: CodeBits, n: number): Uint8Array {
  checkBits(bits, 'unpackCodes');
  if (words.length < packedWords(n, bits))
    throw new RangeError(
      `unpackCodes: words has ${words.length} entries; ${n} codes of ${bits} bits need ${packedWords(n, bits)}`,
    );
  const per = 32 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[Math.floor(i / per)]! >>> ((i % per) * bits)) & mask;
  return out;
}
