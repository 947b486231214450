import type { TextDocument } from '../../corpus/document.js';
import { keep, remove } from '../step.js';
import type { CleaningStep } from '../step.js';
import { findDuplicates, WordNgrams } from './repetition.js';

/**
 * Thresholds of {@link gopherQualityFilter}. Defaults are those of the Gopher paper (Rae et al.
 * 2021, MassiveText, appendix A), which FineWeb and datatrove reuse.
 */
export interface GopherQualityOptions {
  /** Fewest words (default 50). */
  minWords?: number;
  /** Most words (default 100 000). */
  maxWords?: number;
  /** Smallest mean length of words that are not only punctuation (default 3). */
  minMeanWordLength?: number;
  /** Largest mean word length (default 10). */
  maxMeanWordLength?: number;
  /** Largest ratio of `#` and ellipses to words (default 0.1). */
  maxSymbolWordRatio?: number;
  /** Largest share of lines that start with a bullet (default 0.9). */
  maxBulletLineRatio?: number;
  /** Largest share of lines that end with an ellipsis (default 0.3). */
  maxEllipsisLineRatio?: number;
  /** Smallest share of words with an alphabetic character (default 0.8). */
  minAlphaWordRatio?: number;
  /** Fewest stop words among the, be, to, of, and, that, have, with (default 2). */
  minStopWords?: number;
  /** Largest share of lines that repeat an earlier line (default 0.3). */
  maxDuplicateLineRatio?: number;
  /** Largest share of characters in repeated lines (default 0.2). */
  maxDuplicateLineCharRatio?: number;
  /** Largest share of paragraphs that repeat an earlier one (default 0.3). */
  maxDuplicateParagraphRatio?: number;
  /** Largest share of characters in repeated paragraphs (default 0.2). */
  maxDuplicateParagraphCharRatio?: number;
  /** Largest character share of the top n-gram, by n (default 2: 0.2, 3: 0.18, 4: 0.16). */
  maxTopNgramCharRatio?: Record<number, number>;
  /**
   * Largest character share of repeated n-grams, by n
   * (default 5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1).
   */
  maxDuplicateNgramCharRatio?: Record<number, number>;
}

const STOP_WORDS = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']);
const BULLETS = ['•', '●', '‣', '◦', '⁃', '-', '*', '–'];
const PUNCTUATION_ONLY = /^[\p{P}\p{S}]+$/u;
const ALPHA = /\p{L}/u;

const DEFAULTS: Required<GopherQualityOptions> = {
  minWords: 50,
  maxWords: 100_000,
  minMeanWordLength: 3,
  maxMeanWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLineRatio: 0.9,
  maxEllipsisLineRatio: 0.3,
  minAlphaWordRatio: 0.8,
  minStopWords: 2,
  maxDuplicateLineRatio: 0.3,
  maxDuplicateLineCharRatio: 0.2,
  maxDuplicateParagraphRatio: 0.3,
  maxDuplicateParagraphCharRatio: 0.2,
  maxTopNgramCharRatio: { 2: 0.2, 3: 0.18, 4: 0.16 },
  maxDuplicateNgramCharRatio: { 5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1 },
};

/** A failed rule: its reason key and what was measured. */
export interface QualityFailure {
  /** Reason key, `gopher:<rule>`. */
  reason: string;
  /** The measured value against the threshold. */
  detail: string;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/**
 * Checks one text against Gopher's quality and repetition rules, cheapest rules first.
 *
 * @param text - the text.
 * @param options - thresholds; missing ones take the Gopher defaults.
 * @returns the first failed rule, or `undefined` when the text passes.
 */
export function checkGopherQuality(
  text: string,
  options: GopherQualityOptions = {},
): QualityFailure | undefined {
  const o = { ...DEFAULTS, ...options };
  const fail = (rule: string, value: number, op: string, bound: number): QualityFailure => ({
    reason: `gopher:${rule}`,
    detail: `${rule} ${fmt(value)} ${op} ${fmt(bound)}`,
  });
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const n = words.length;
  if (n < o.minWords) return fail('word-count', n, '<', o.minWords);
  if (n > o.maxWords) return fail('word-count', n, '>', o.maxWords);

  const contentWords = words.filter((w) => !PUNCTUATION_ONLY.test(w));
  const meanLength =
    contentWords.reduce((s, w) => s + w.length, 0) / Math.max(1, contentWords.length);
  if (meanLength < o.minMeanWordLength)
    return fail('mean-word-length', meanLength, '<', o.minMeanWordLength);
  if (meanLength > o.maxMeanWordLength)
    return fail('mean-word-length', meanLength, '>', o.maxMeanWordLength);

  const symbols =
    countOccurrences(text, '#') + countOccurrences(text, '...') + countOccurrences(text, '…');
  if (symbols / n > o.maxSymbolWordRatio)
    return fail('symbol-word-ratio', symbols / n, '>', o.maxSymbolWordRatio);

  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const bulletLines = lines.filter((l) => BULLETS.some((b) => l.trimStart().startsWith(b)));
  if (lines.length > 0 && bulletLines.length / lines.length > o.maxBulletLineRatio)
    return fail('bullet-lines', bulletLines.length / lines.length, '>', o.maxBulletLineRatio);
  const ellipsisLines = lines.filter((l) => /(\.\.\.|…)\s*$/.test(l));
  if (lines.length > 0 && ellipsisLines.length / lines.length > o.maxEllipsisLineRatio)
    return fail('ellipsis-lines', ellipsisLines.length / lines.length, '>', o.maxEllipsisLineRatio);

  const alphaRatio = words.filter((w) => ALPHA.test(w)).length / n;
  if (alphaRatio < o.minAlphaWordRatio)
    return fail('alpha-words', alphaRatio, '<', o.minAlphaWordRatio);
  let stopWords = 0;
  for (const w of words) if (STOP_WORDS.has(w.toLowerCase())) stopWords++;
  if (stopWords < o.minStopWords) return fail('stop-words', stopWords, '<', o.minStopWords);

  const chars = Math.max(1, text.length);
  const lineDup = findDuplicates(lines.map((l) => l.trim()));
  if (lines.length > 0 && lineDup.duplicates / lines.length > o.maxDuplicateLineRatio)
    return fail('duplicate-lines', lineDup.duplicates / lines.length, '>', o.maxDuplicateLineRatio);
  if (lineDup.duplicateChars / chars > o.maxDuplicateLineCharRatio)
    return fail(
      'duplicate-line-chars',
      lineDup.duplicateChars / chars,
      '>',
      o.maxDuplicateLineCharRatio,
    );
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const paraDup = findDuplicates(paragraphs);
  if (
    paragraphs.length > 0 &&
    paraDup.duplicates / paragraphs.length > o.maxDuplicateParagraphRatio
  )
    return fail(
      'duplicate-paragraphs',
      paraDup.duplicates / paragraphs.length,
      '>',
      o.maxDuplicateParagraphRatio,
    );
  if (paraDup.duplicateChars / chars > o.maxDuplicateParagraphCharRatio)
    return fail(
      'duplicate-paragraph-chars',
      paraDup.duplicateChars / chars,
      '>',
      o.maxDuplicateParagraphCharRatio,
    );

  const ngrams = new WordNgrams(words);
  for (const [size, bound] of Object.entries(o.maxTopNgramCharRatio)) {
    const ratio = ngrams.topNgramChars(Number(size)) / chars;
    if (ratio > bound) return fail(`top-${size}gram-chars`, ratio, '>', bound);
  }
  for (const [size, bound] of Object.entries(o.maxDuplicateNgramCharRatio)) {
    const ratio = ngrams.duplicateNgramChars(Number(size)) / chars;
    if (ratio > bound) return fail(`duplicate-${size}gram-chars`, ratio, '>', bound);
  }
  return undefined;
}

/**
 * A step that removes documents failing Gopher's heuristic quality rules: length, mean word
 * length, symbol ratio, bullet and ellipsis lines, alphabetic words, stop words, and repeated
 * lines, paragraphs and n-grams.
 *
 * @param options - thresholds; missing ones take the Gopher defaults.
 * @returns a step whose reasons name the failed rule (`gopher:mean-word-length`).
 */
export function gopherQualityFilter<D extends TextDocument>(
  options: GopherQualityOptions = {},
): CleaningStep<D> {
  for (const [key, value] of Object.entries(options)) {
    if (!(key in DEFAULTS)) {
      throw new TypeError(
        `gopherQualityFilter: options.${key} is not a known threshold; expected one of ${Object.keys(DEFAULTS).join(', ')}`,
      );
    }
    if (typeof value === 'number' && !(value >= 0)) {
      throw new RangeError(
        `gopherQualityFilter: options.${key} is ${value}; expected a number >= 0`,
      );
    }
  }
  return {
    name: 'gopher-quality',
    apply(doc) {
      const failure = checkGopherQuality(doc.text, options);
      return failure ? remove(failure.reason, failure.detail) : keep(doc);
    },
  };
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}
