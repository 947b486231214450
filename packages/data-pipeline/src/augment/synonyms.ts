import type { Xoshiro128 } from '../random/xoshiro128.js';
import { shuffleInPlace } from '../random/shuffle.js';
import { edaCount } from './augmentation.js';
import type { SyncTextAugmentation } from './augmentation.js';
import {
  EDA_STOP_WORDS,
  joinSpacedTokens,
  matchCase,
  splitSpacedTokens,
  wordCore,
} from './word-tokens.js';
import type { WordNet } from './wordnet/wordnet.js';

/** Options of {@link synonymReplacement} and {@link randomInsertion}. */
export interface SynonymAugmentationOptions {
  /** The WordNet database synonyms come from. */
  wordnet: WordNet;
  /** Share of the words to replace or insert (EDA's alpha, default 0.1). */
  fraction?: number;
}

function synonymsOf(wordnet: WordNet, word: string): string[] {
  if (EDA_STOP_WORDS.has(word.toLowerCase())) return [];
  // Skip proper names (`Canis familiaris`): a replacement in running text should be a
  // common word.
  return wordnet.synonyms(word).filter((s) => s.toLowerCase() === s);
}

/**
 * EDA's synonym replacement (Wei and Zou 2019): up to `round(fraction * words)` distinct
 * non-stop-words that WordNet knows are each replaced by one of their WordNet synonyms,
 * chosen uniformly; punctuation and a leading capital are kept. Words are looked up as
 * written (no lemmatisation), so an inflected form without a WordNet entry stays as it is.
 *
 * @param options - the WordNet database and the share of words to replace.
 * @returns the augmentation.
 */
export function synonymReplacement(options: SynonymAugmentationOptions): SyncTextAugmentation {
  const { wordnet, fraction = 0.1 } = options;
  edaCount(1, fraction, 'synonymReplacement');
  return {
    name: 'synonym-replacement',
    apply(text: string, rng: Xoshiro128): string {
      const parts = splitSpacedTokens(text);
      let budget = edaCount(parts.tokens.length, fraction, 'synonymReplacement');
      const order = shuffleInPlace(
        parts.tokens.map((_, i) => i),
        rng,
      );
      for (const i of order) {
        if (budget === 0) break;
        const core = wordCore(parts.tokens[i]!);
        if (!core) continue;
        const [before, word, after] = core;
        const choices = synonymsOf(wordnet, word);
        if (choices.length === 0) continue;
        const pick = choices[rng.nextInt(choices.length)]!;
        parts.tokens[i] = before + matchCase(pick, word) + after;
        budget--;
      }
      return joinSpacedTokens(parts);
    },
  };
}

/**
 * EDA's random insertion: `round(fraction * words)` times, a WordNet synonym of a random
 * non-stop-word of the text is inserted at a random position.
 *
 * @param options - the WordNet database and the share of words to insert.
 * @returns the augmentation.
 */
export function randomInsertion(options: SynonymAugmentationOptions): SyncTextAugmentation {
  const { wordnet, fraction = 0.1 } = options;
  edaCount(1, fraction, 'randomInsertion');
  return {
    name: 'random-insertion',
    apply(text: string, rng: Xoshiro128): string {
      const parts = splitSpacedTokens(text);
      const inserts = edaCount(parts.tokens.length, fraction, 'randomInsertion');
      const words = parts.tokens.map((t) => wordCore(t)?.[1]).filter((w) => w !== undefined);
      for (let n = 0; n < inserts && words.length > 0; n++) {
        // EDA tries a few random words before giving up on finding one with synonyms.
        for (let attempt = 0; attempt < 10; attempt++) {
          const choices = synonymsOf(wordnet, words[rng.nextInt(words.length)]!);
          if (choices.length === 0) continue;
          const at = rng.nextInt(parts.tokens.length + 1);
          parts.tokens.splice(at, 0, choices[rng.nextInt(choices.length)]!);
          parts.spaces.splice(at, 0, ' ');
          // The text's leading white space stays in front of whichever token is first.
          if (at === 0 && parts.spaces.length > 1) {
            [parts.spaces[0], parts.spaces[1]] = [parts.spaces[1]!, parts.spaces[0]!];
          }
          break;
        }
      }
      return joinSpacedTokens(parts);
    },
  };
}
