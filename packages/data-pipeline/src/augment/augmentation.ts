import type { Xoshiro128 } from '../random/xoshiro128.js';

/**
 * One text augmentation: a function of the text and a seeded generator. Given the same
 * generator state it returns the same text.
 */
export interface TextAugmentation {
  /** Short name recorded on augmented documents (`synonym-replacement`). */
  readonly name: string;
  /**
   * Augments one text.
   *
   * @param text - the text.
   * @param rng - the generator that drives every random choice.
   * @returns the augmented text.
   */
  apply(text: string, rng: Xoshiro128): string | Promise<string>;
}

/** A {@link TextAugmentation} that works synchronously (everything except back-translation). */
export interface SyncTextAugmentation extends TextAugmentation {
  /**
   * Augments one text.
   *
   * @param text - the text.
   * @param rng - the generator that drives every random choice.
   * @returns the augmented text.
   */
  apply(text: string, rng: Xoshiro128): string;
}

/**
 * Number of words an EDA operation touches: `max(1, round(fraction * words))`, 0 for no words.
 *
 * @param words - words in the text.
 * @param fraction - EDA's alpha, in [0, 1].
 * @param where - caller name for the error message.
 * @returns the count.
 */
export function edaCount(words: number, fraction: number, where: string): number {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`${where}: fraction is ${fraction}; expected a number in [0, 1]`);
  }
  if (words === 0 || fraction === 0) return 0;
  return Math.max(1, Math.round(fraction * words));
}
