/**
 * MurmurHash3's 32-bit finaliser: a bijection on 32-bit integers with full avalanche
 * (every input bit flips each output bit with probability close to one half).
 *
 * @param x - any number; only its low 32 bits are used.
 * @returns an unsigned 32-bit integer.
 */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combines two 32-bit values into one well-mixed 32-bit hash (order matters).
 *
 * @param a - first value (low 32 bits used).
 * @param b - second value (low 32 bits used).
 * @returns an unsigned 32-bit integer.
 */
export function combine32(a: number, b: number): number {
  return mix32((Math.imul(a >>> 0, 0x9e3779b1) ^ mix32(b)) >>> 0);
}
