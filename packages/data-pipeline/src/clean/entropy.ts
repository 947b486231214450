import type { TextDocument } from '../corpus/document.js';
import { keep, remove } from './step.js';
import type { CleaningStep } from './step.js';

/**
 * Shannon entropy, in bits per symbol, of the empirical distribution of a symbol sequence:
 * `-sum p log2 p` with `p = count / total`.
 *
 * @param symbols - the sequence (characters, words or token ids).
 * @returns the entropy in bits; 0 for an empty sequence.
 */
export function shannonEntropy(symbols: Iterable<string | number>): number {
  const counts = new Map<string | number, number>();
  let total = 0;
  for (const s of symbols) {
    counts.set(s, (counts.get(s) ?? 0) + 1);
    total++;
  }
  if (total === 0) return 0;
  let h = 0;
  for (const c of counts.values()) {
    const p = c / total;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Entropy of a text's characters (Unicode code points), in bits per character. Ordinary
 * English prose measures about 4.1 to 4.5; repeated boilerplate, runs of one symbol and
 * keyboard mashing of few keys measure far less.
 *
 * @param text - any text.
 * @returns bits per character.
 */
export function characterEntropy(text: string): number {
  return shannonEntropy(text);
}

/**
 * Entropy of a text's white-space separated words, in bits per word.
 *
 * @param text - any text.
 * @returns bits per word.
 */
export function wordEntropy(text: string): number {
  return shannonEntropy(text.split(/\s+/).filter((w) => w.length > 0));
}

/** Options of {@link entropyFilter}. */
export interface EntropyFilterOptions {
  /** Symbols to measure: `char` (default) or `word`. Ignored when `tokenize` is given. */
  unit?: 'char' | 'word';
  /** Splits a text into tokens (for example a tokenizer's ids), measured instead of `unit`. */
  tokenize?: (text: string) => Iterable<string | number>;
  /** Documents below this entropy in bits are removed (default 3.5). */
  min?: number;
  /** Documents above this entropy in bits are removed (default: no upper bound). */
  max?: number;
}

/**
 * A step that removes documents whose symbol entropy is outside `[min, max]`. A short text
 * cannot exceed log2 of its length (a 10-character text has at most 3.32 bits), so the
 * default 3.5-bit floor also removes texts of fewer than 12 characters.
 *
 * @param options - unit and bounds.
 * @returns a step that removes documents with reason `low-entropy` or `high-entropy`.
 */
export function entropyFilter<D extends TextDocument>(
  options: EntropyFilterOptions = {},
): CleaningStep<D> {
  const { unit = 'char', tokenize, min = 3.5, max = Infinity } = options;
  if (unit !== 'char' && unit !== 'word') {
    throw new TypeError(
      `entropyFilter: unit is ${JSON.stringify(unit)}; expected 'char' or 'word'`,
    );
  }
  if (!(min >= 0) || !(max >= min)) {
    throw new RangeError(`entropyFilter: bounds are [${min}, ${max}]; expected 0 <= min <= max`);
  }
  const label = tokenize ? 'token' : unit;
  const measure = tokenize
    ? (text: string) => shannonEntropy(tokenize(text))
    : unit === 'char'
      ? characterEntropy
      : wordEntropy;
  return {
    name: `${label}-entropy`,
    apply(doc) {
      const h = measure(doc.text);
      if (h < min) return remove('low-entropy', `${h.toFixed(3)} bits/${label} < ${min}`);
      if (h > max) return remove('high-entropy', `${h.toFixed(3)} bits/${label} > ${max}`);
      return keep(doc);
    },
  };
}
