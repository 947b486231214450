import type { Xoshiro128 } from '../random/xoshiro128.js';
import { edaCount } from './augmentation.js';
import type { SyncTextAugmentation } from './augmentation.js';
import { joinSpacedTokens, splitSpacedTokens } from './word-tokens.js';

/**
 * EDA's random swap: `round(fraction * words)` times, two random word positions exchange
 * their words (punctuation travels with its word; line breaks stay where they were).
 *
 * @param options - share of words to swap (EDA's alpha, default 0.1).
 * @returns the augmentation.
 */
export function randomSwap(options: { fraction?: number } = {}): SyncTextAugmentation {
  const fraction = options.fraction ?? 0.1;
  edaCount(1, fraction, 'randomSwap');
  return {
    name: 'random-swap',
    apply(text: string, rng: Xoshiro128): string {
      const parts = splitSpacedTokens(text);
      const n = parts.tokens.length;
      if (n < 2) return text;
      const swaps = edaCount(n, fraction, 'randomSwap');
      for (let s = 0; s < swaps; s++) {
        const i = rng.nextInt(n);
        let j = rng.nextInt(n - 1);
        if (j >= i) j++; // a distinct second position, uniformly
        const t = parts.tokens[i]!;
        parts.tokens[i] = parts.tokens[j]!;
        parts.tokens[j] = t;
      }
      return joinSpacedTokens(parts);
    },
  };
}

/**
 * EDA's random deletion: each word is deleted with probability `probability`; when every
 * word would go, one random word is kept.
 *
 * @param options - deletion probability (EDA's p, default 0.1).
 * @returns the augmentation.
 */
export function randomDeletion(options: { probability?: number } = {}): SyncTextAugmentation {
  const probability = options.probability ?? 0.1;
  if (!(probability >= 0 && probability <= 1)) {
    throw new RangeError(
      `randomDeletion: probability is ${probability}; expected a number in [0, 1]`,
    );
  }
  return {
    name: 'random-deletion',
    apply(text: string, rng: Xoshiro128): string {
      const parts = splitSpacedTokens(text);
      const n = parts.tokens.length;
      if (n < 2) return text;
      const keepIndex: number[] = [];
      for (let i = 0; i < n; i++) if (!rng.nextBool(probability)) keepIndex.push(i);
      if (keepIndex.length === 0) keepIndex.push(rng.nextInt(n));
      const spaces = keepIndex.map((i, k) => (k === 0 ? parts.spaces[0]! : parts.spaces[i]!));
      const tokens = keepIndex.map((i) => parts.tokens[i]!);
      return joinSpacedTokens({ spaces, tokens, trailing: parts.trailing });
    },
  };
}
