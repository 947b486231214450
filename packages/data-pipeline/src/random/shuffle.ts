import type { Xoshiro128 } from './xoshiro128.js';

/**
 * Shuffles an array in place with the Fisher-Yates algorithm (every order equally likely).
 *
 * @param items - the array to shuffle.
 * @param rng - the generator that drives the shuffle.
 * @returns the same array, for chaining.
 */
export function shuffleInPlace<T>(items: T[], rng: Xoshiro128): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
