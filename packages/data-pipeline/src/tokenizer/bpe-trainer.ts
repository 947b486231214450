// Byte-level BPE training. The corpus is reduced once to unique pre-tokens with counts; merges
// are then learned over those words with incremental pair counts: each merge touches only the
// words that contain the merged pair (found through a pair -> words index) and updates the
// counts of the pairs that changed, and a max-heap with lazy invalidation picks the next pair.
//
// Tie-break (deterministic and documented): the pair with the highest count wins; among equal
// counts, the smaller left id, then the smaller right id. Base ids are the byte values 0..255;
// each merge whose bytes are new gets the next id (256, 257, ...); special tokens follow.

import { ByteLevelBpe, type ByteLevelBpeConfig } from './bpe-encoder.js';
import { MAX_TOKEN_ID, bytesKey, pairKey } from './merge-table.js';
import { PairHeap } from './pair-heap.js';
import { GPT2_PATTERN } from './pattern.js';
import { Pretokenizer } from './pretokenize.js';
import { SpecialTokenMatcher } from './special-tokens.js';
import { encodeWtf8 } from './wtf8.js';

/** Options of {@link trainByteLevelBpe}. */
export interface BpeTrainerOptions extends Omit<
  ByteLevelBpeConfig,
  'tokens' | 'merges' | 'specialTokens' | 'ignoreMerges'
> {
  /** Total vocabulary size: 256 byte tokens + learned merges + special tokens. */
  readonly vocabSize: number;
  /** Stop when the most frequent pair occurs fewer times than this. Default 2. */
  readonly minFrequency?: number;
  /**
   * Special token strings, given ids after the learned tokens in this order. They are cut out of
   * the training text before counting.
   */
  readonly specialTokens?: readonly string[];
}

/** A learned merge list with the bytes of every token (the trainer's raw result). */
export interface LearnedMerges {
  /** Token bytes by id: 0..255 are single bytes, then one per new merged token. */
  readonly tokens: Uint8Array[];
  /** Merges in the order learned, as pairs of token ids. */
  readonly merges: [number, number][];
}

/**
 * Counts pre-tokens over a corpus.
 *
 * @returns pre-token string -> number of occurrences
 */
export function countPretokens(
  corpus: string | Iterable<string>,
  pretokenizer: Pretokenizer,
  specialTokens: readonly string[] = [],
): Map<string, number> {
  const counts = new Map<string, number>();
  const matcher = new SpecialTokenMatcher(specialTokens);
  const add = (piece: string) => counts.set(piece, (counts.get(piece) ?? 0) + 1);
  const docs = typeof corpus === 'string' ? [corpus] : corpus;
  let index = 0;
  for (const doc of docs) {
    if (typeof doc !== 'string') {
      throw new Error(
        `trainByteLevelBpe: corpus item ${index} is ${typeof doc}; expected a string`,
      );
    }
    matcher.scan(
      doc,
      (segment) => pretokenizer.split(segment, add),
      () => {},
    );
    index++;
  }
  return counts;
}

/**
 * Learns merges over weighted words (each a sequence of byte values).
 *
 * @param words - byte sequences of the unique pre-tokens
 * @param counts - occurrences of each word
 * @param maxTokens - stop once this many ordinary tokens (256 bytes included) exist
 * @param minFrequency - stop when the best pair occurs fewer times than this
 */
export function learnMerges(
  words: readonly Uint8Array[],
  counts: readonly number[],
  maxTokens: number,
  minFrequency: number,
): LearnedMerges {
  const tokens: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(b));
  const keyToId = new Map<string, number>(tokens.map((t, id) => [bytesKey(t), id]));
  const merges: [number, number][] = [];
  const symbols: number[][] = words.map((w) => Array.from(w));

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  symbols.forEach((sym, w) => {
    const c = counts[w]!;
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = pairKey(sym[i]!, sym[i + 1]!);
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      const list = pairWords.get(key);
      if (list === undefined) pairWords.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  });
  // Max count first, then smaller key (= smaller left id, then smaller right id).
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(-c, key);

  const visited = new Int32Array(symbols.length).fill(-1);
  const delta = new Map<number, number>();
  while (tokens.length < maxTokens && heap.size > 0) {
    const count = -heap.topPrimary();
    const key = heap.topSecondary();
    heap.pop();
    if (pairCount.get(key) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const left = Math.floor(key / MAX_TOKEN_ID);
    const right = key % MAX_TOKEN_ID;
    const mergedBytes = concat(tokens[left]!, tokens[right]!);
    const mergedKey = bytesKey(mergedBytes);
    let merged = keyToId.get(mergedKey);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(mergedBytes);
      keyToId.set(mergedKey, merged);
    }
    const mergeIndex = merges.length;
    merges.push([left, right]);

    delta.clear();
    const bump = (k: number, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    for (const w of pairWords.get(key) ?? []) {
      if (visited[w] === mergeIndex) continue;
      visited[w] = mergeIndex;
      const sym = symbols[w]!;
      const c = counts[w]!;
      const out: number[] = [];
      let changed = false;
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === left && sym[i + 1] === right) {
          out.push(merged);
          i++;
          changed = true;
        } else out.push(sym[i]!);
      }
      if (!changed) continue;
      for (let i = 0; i + 1 < sym.length; i++) bump(pairKey(sym[i]!, sym[i + 1]!), -c);
      for (let i = 0; i + 1 < out.length; i++) {
        const k = pairKey(out[i]!, out[i + 1]!);
        bump(k, c);
        if (out[i] === merged || out[i + 1] === merged) {
          const list = pairWords.get(k);
          if (list === undefined) pairWords.set(k, [w]);
          else if (list[list.length - 1] !== w) list.push(w);
        }
      }
      symbols[w] = out;
    }
    pairWords.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c > 0) {
        pairCount.set(k, c);
        heap.push(-c, k);
      } else {
        pairCount.delete(k);
        pairWords.delete(k);
      }
    }
  }
  return { tokens, merges };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Trains a byte-level BPE tokenizer on text.
 *
 * @param corpus - one string or an iterable of documents
 * @param options - target vocabulary size, minimum pair frequency, special tokens, patterns...
 * @returns a tokenizer with Hugging Face merge semantics (explicit merge list)
 */
export function trainByteLevelBpe(
  corpus: string | Iterable<string>,
  options: BpeTrainerOptions,
): ByteLevelBpe {
  const { vocabSize, minFrequency = 2, specialTokens = [], ...rest } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specialTokens.length) {
    throw new Error(
      `trainByteLevelBpe: options.vocabSize is ${vocabSize}; expected an integer >= ${256 + specialTokens.length} ` +
        `(256 byte tokens + ${specialTokens.length} special tokens)`,
    );
  }
  if (vocabSize > MAX_TOKEN_ID) {
    throw new Error(
      `trainByteLevelBpe: options.vocabSize is ${vocabSize}; at most ${MAX_TOKEN_ID}`,
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new Error(
      `trainByteLevelBpe: options.minFrequency is ${minFrequency}; expected a positive integer`,
    );
  }
  if (new Set(specialTokens).size !== specialTokens.length) {
    throw new Error(`trainByteLevelBpe: options.specialTokens has duplicates`);
  }
  const patterns = rest.patterns ?? [GPT2_PATTERN];
  const pretokenizer = new Pretokenizer(patterns);
  const counted = countPretokens(corpus, pretokenizer, specialTokens);
  const words: Uint8Array[] = [];
  const counts: number[] = [];
  for (const [piece, c] of counted) {
    words.push(encodeWtf8(piece, rest.loneSurrogates ?? 'wtf8'));
    counts.push(c);
  }
  const learned = learnMerges(words, counts, vocabSize - specialTokens.length, minFrequency);
  const specials: Record<string, number> = {};
  specialTokens.forEach((t, i) => (specials[t] = learned.tokens.length + i));
  return new ByteLevelBpe({
    ...rest,
    patterns,
    tokens: learned.tokens,
    merges: learned.merges,
    specialTokens: specials,
  });
}
