import type { TextAugmentation } from './augmentation.js';

/**
 * Translates a text between two languages (any machine-translation backend: a local model,
 * a web service).
 */
export type TranslateFn = (text: string, from: string, to: string) => Promise<string>;

/** Options of {@link backTranslation}. */
export interface BackTranslationOptions {
  /** The translation function. */
  translate: TranslateFn;
  /** Language of the texts (default `en`). */
  source?: string;
  /** Language to translate through; one is chosen at random when several are given (default `fr`). */
  pivot?: string | readonly string[];
}

/**
 * Back-translation (Sennrich et al. 2016): the text is translated into a pivot language and
 * back, which paraphrases it. Only the choice of pivot is random; any randomness inside
 * `translate` is the backend's.
 *
 * @param options - the translation function and the languages.
 * @returns the augmentation.
 */
export function backTranslation(options: BackTranslationOptions): TextAugmentation {
  const { translate, source = 'en' } = options;
  if (typeof translate !== 'function') {
    throw new TypeError(
      `backTranslation: options.translate is ${typeof translate}; expected a function (text, from, to) => Promise<string>`,
    );
  }
  const pivots =
    typeof options.pivot === 'string' ? [options.pivot] : [...(options.pivot ?? ['fr'])];
  if (pivots.length === 0) {
    throw new RangeError('backTranslation: options.pivot is empty; expected at least one language');
  }
  return {
    name: 'back-translation',
    async apply(text, rng) {
      const pivot = pivots.length === 1 ? pivots[0]! : pivots[rng.nextInt(pivots.length)]!;
      const there = await translate(text, source, pivot);
      if (typeof there !== 'string') {
        throw new TypeError(
          `backTranslation: translate(text, '${source}', '${pivot}') returned ${typeof there}; expected a string`,
        );
      }
      return translate(there, pivot, source);
    },
  };
}
