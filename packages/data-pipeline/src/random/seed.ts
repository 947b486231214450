import { mix32 } from '../hash/mix32.js';

/**
 * Checks that a seed is a non-negative safe integer and splits it into two 32-bit words.
 *
 * @param seed - the seed to check.
 * @param where - the name of the caller and argument, used in the error message.
 * @returns `[hi, lo]` 32-bit words of the seed.
 */
export function seedWords(seed: number, where: string): [hi: number, lo: number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`${where}: got ${String(seed)}; expected a non-negative safe integer`);
  }
  return [Math.floor(seed / 0x100000000) >>> 0, seed >>> 0];
}

/**
 * Derives an independent 32-bit seed from a base seed and a path of integers (for example
 * `deriveSeed(seed, epoch)`), so that sub-streams of one run do not overlap.
 *
 * @param seed - base seed, a non-negative safe integer.
 * @param path - further non-negative integers that name the sub-stream.
 * @returns an unsigned 32-bit seed.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  const [hi, lo] = seedWords(seed, 'deriveSeed: seed');
  let h = mix32(lo ^ 0x243f6a88);
  h = mix32(h ^ Math.imul(hi, 0x9e3779b1) ^ 0x85a308d3);
  for (const [i, part] of path.entries()) {
    const [phi, plo] = seedWords(part, `deriveSeed: path[${i}]`);
    h = mix32(h ^ mix32(plo + 0x13198a2e));
    h = mix32(h ^ mix32(phi + 0x03707344 + i));
  }
  return h >>> 0;
}
