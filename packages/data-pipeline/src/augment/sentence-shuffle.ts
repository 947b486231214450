import type { Xoshiro128 } from '../random/xoshiro128.js';
import { shuffleInPlace } from '../random/shuffle.js';
import type { SyncTextAugmentation } from './augmentation.js';

// A sentence ends at . ! or ? (with any closing quotes or brackets) followed by white space.
const SENTENCE_END = /(?<=[.!?]["')\]]*)\s+/;

/**
 * Splits a paragraph into sentences at `.`, `!` or `?` (and any closing quotes or brackets)
 * followed by white space.
 *
 * @param paragraph - text without blank lines.
 * @returns the sentences, trimmed, without empty ones.
 */
export function splitSentences(paragraph: string): string[] {
  return paragraph
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Random sentence shuffle: the sentences of each paragraph are put in a random order;
 * paragraphs stay in place, separated by blank lines as before.
 *
 * @returns the augmentation.
 */
export function sentenceShuffle(): SyncTextAugmentation {
  return {
    name: 'sentence-shuffle',
    apply(text: string, rng: Xoshiro128): string {
      return text
        .split(/(\n\s*\n)/)
        .map((piece, i) => {
          if (i % 2 === 1) return piece; // a paragraph separator
          const sentences = splitSentences(piece);
          if (sentences.length < 2) return piece;
          return shuffleInPlace(sentences, rng).join(' ');
        })
        .join('');
    },
  };
}
