import { describe, expect, it } from 'vitest';

import { trainByteLevelBpe } from './bpe-trainer.js';
import { fromHuggingFaceJson, toHuggingFaceJson } from './hf-tokenizer-json.js';
import { brownDocuments } from './test-utils/brown.js';

const GPT2_JS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * The slow, direct definition: every round recounts all adjacent pairs over all words, takes
 * the most frequent (ties: smaller left id, then smaller right id), and merges it everywhere.
 */
function slowTrain(corpus: string, maxTokens: number, minFrequency: number) {
  const wordCounts = new Map<string, number>();
  for (const piece of corpus.match(GPT2_JS) ?? []) {
    wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
  }
  const enc = new TextEncoder();
  const words = [...wordCounts.keys()].map((w) => Array.from(enc.encode(w)));
  const counts = [...wordCounts.values()];
  const tokens: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const merges: [number, number][] = [];
  while (tokens.length < maxTokens) {
    const pairCounts = new Map<string, number>();
    words.forEach((w, i) => {
      for (let j = 0; j + 1 < w.length; j++) {
        const k = `${w[j]},${w[j + 1]}`;
        pairCounts.set(k, (pairCounts.get(k) ?? 0) + counts[i]!);
      }
    });
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [k, c] of pairCounts) {
      const [l, r] = k.split(',').map(Number) as [number, number];
      if (
        best === undefined ||
        c > bestCount ||
        (c === bestCount && (l < best[0] || (l === best[0] && r < best[1])))
      ) {
        best = [l, r];
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const bytes = tokens[best[0]]! + tokens[best[1]]!;
    let id = tokens.indexOf(bytes);
    if (id < 0) id = tokens.push(bytes) - 1;
    merges.push(best);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      const out: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (j + 1 < w.length && w[j] === best[0] && w[j + 1] === best[1]) {
          out.push(id);
          j++;
        } else out.push(w[j]!);
      }
      words[i] = out;
    }
  }
  return { merges, tokens };
}

/** Encodes a word by applying the merges in learned order (equivalent to rank-priority BPE). */
function applyMergesInOrder(word: string, merges: [number, number][], tokens: string[]): number[] {
  let parts = Array.from(new TextEncoder().encode(word));
  for (const [l, r] of merges) {
    if (parts.length < 2) break;
    const id = tokens.indexOf(tokens[l]! + tokens[r]!);
    const out: number[] = [];
    for (let j = 0; j < parts.length; j++) {
      if (j + 1 < parts.length && parts[j] === l && parts[j + 1] === r) {
        out.push(id);
        j++;
      } else out.push(parts[j]!);
    }
    parts = out;
  }
  return parts;
}

describe('trainByteLevelBpe', () => {
  const corpus = brownDocuments().slice(0, 2).join('\n\n');

  it('learns exactly the merges of the slow direct reference', () => {
    const slow = slowTrain(corpus, 256 + 300, 2);
    const bpe = trainByteLevelBpe(corpus, { vocabSize: 256 + 300, minFrequency: 2 });
    expect(slow.merges.length).toBe(300);
    expect(bpe.toConfig().merges).toEqual(slow.merges);
    const ids = bpe.encode(corpus);
    const memo = new Map<string, number[]>();
    const expected = (corpus.match(GPT2_JS) ?? []).flatMap((w) => {
      const ids = memo.get(w) ?? applyMergesInOrder(w, slow.merges, slow.tokens);
      memo.set(w, ids);
      return ids;
    });
    expect(ids).toEqual(expected);
    expect(bpe.decode(ids)).toBe(corpus);
  });

  it('breaks count ties by the smaller left id, then the smaller right id', () => {
    // "ab", "cd", "ba" each occur 3 times; (97,98) < (98,97) < (99,100).
    const bpe = trainByteLevelBpe('ab ab ab cd cd cd ba ba ba', {
      vocabSize: 259,
      minFrequency: 1,
      patterns: ['\\S+'],
    });
    expect(bpe.toConfig().merges).toEqual([
      [97, 98],
      [98, 97],
      [99, 100],
    ]);
  });

  it('stops at minFrequency and appends special tokens after the learned ones', () => {
    const bpe = trainByteLevelBpe(['aaaa<|eot|>aaaa', 'bb'], {
      vocabSize: 1000,
      minFrequency: 2,
      specialTokens: ['<|eot|>', '<|pad|>'],
      eosToken: '<|eot|>',
      addEos: true,
    });
    // aaaa twice -> (a,a) x6 -> "aa"; then (aa,aa) x2 -> "aaaa"; "bb" occurs once.
    expect(bpe.toConfig().merges).toEqual([
      [97, 97],
      [256, 256],
    ]);
    expect(bpe.specialTokens).toEqual(
      new Map([
        ['<|eot|>', 258],
        ['<|pad|>', 259],
      ]),
    );
    expect(bpe.encode('aaaa')).toEqual([257, 258]);
  });

  it('saves to tokenizer.json and loads back with the same ids', () => {
    const bpe = trainByteLevelBpe(corpus, {
      vocabSize: 800,
      specialTokens: ['<|endoftext|>'],
      bosToken: '<|endoftext|>',
      addBos: true,
    });
    const loaded = fromHuggingFaceJson(JSON.stringify(toHuggingFaceJson(bpe)));
    const sample = brownDocuments()[10]! + ' <|endoftext|> 😀 \ud800';
    expect(loaded.encode(sample)).toEqual(bpe.encode(sample, { allowedSpecial: 'all' }));
    expect(loaded.encode(sample)[0]).toBe(bpe.specialTokens.get('<|endoftext|>'));
    expect(loaded.decode(loaded.encode(sample).slice(1))).toBe(sample);
  });

  it('rejects bad options with errors naming them', () => {
    expect(() => trainByteLevelBpe('x', { vocabSize: 100 })).toThrow(/options.vocabSize is 100/);
    expect(() => trainByteLevelBpe('x', { vocabSize: 300, minFrequency: 0 })).toThrow(
      /options.minFrequency is 0/,
    );
    expect(() => trainByteLevelBpe([1 as unknown as string], { vocabSize: 300 })).toThrow(
      /corpus item 0 is number/,
    );
  });
});
