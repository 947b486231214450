import cl100kBundle from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';

import { trainByteLevelBpe } from './bpe-trainer.js';
import { toHuggingFaceJson } from './hf-tokenizer-json.js';
import { loadTokenizer } from './load.js';
import { R50K_BASE } from './presets.js';
import { toTiktokenRanks } from './tiktoken-ranks.js';

describe('loadTokenizer', () => {
  const trained = trainByteLevelBpe('the quick brown fox jumps over the lazy dog '.repeat(20), {
    vocabSize: 300,
    specialTokens: ['<|end|>'],
  });
  const sample = 'the lazy fox<|end|>';

  it('detects tokenizer.json as text, bytes and object', () => {
    const json = toHuggingFaceJson(trained);
    const text = JSON.stringify(json);
    const expected = trained.encode(sample, { allowedSpecial: 'all' });
    expect(loadTokenizer(text).encode(sample)).toEqual(expected);
    expect(loadTokenizer(new TextEncoder().encode(text)).encode(sample)).toEqual(expected);
    expect(loadTokenizer(json).encode(sample)).toEqual(expected);
  });

  it('detects tiktoken rank files and js-tiktoken bundles', () => {
    const bundle = loadTokenizer(cl100kBundle);
    expect(bundle.encode('hello world')).toEqual([15339, 1917]);
    const ranks = toTiktokenRanks(bundle);
    expect(loadTokenizer(ranks, { patterns: ['\\S+|\\s+'] }).encode('hello')).toEqual([15339]);
    expect(() => loadTokenizer(ranks)).toThrow(/tiktoken rank file.*pass options.patterns/);
    // Settings of another encoding are caught: r50k's <|endoftext|> id is an ordinary cl100k token.
    expect(() => loadTokenizer(ranks, R50K_BASE)).toThrow(
      /specialTokens\["<\|endoftext\|>"\] is id 50256, which is an ordinary token with different bytes/,
    );
  });

  it('says what it found and what is supported for anything else', () => {
    expect(() => loadTokenizer('[UNK]\n[CLS]\nthe\n')).toThrow(
      /source is text starting with "\[UNK\]\\n\[CLS\]\\nthe\\n"; expected a Hugging Face tokenizer.json .*tiktoken rank file.*js-tiktoken bundle/,
    );
    expect(() => loadTokenizer({ vocab: {}, merges: [] })).toThrow(
      /source is an object with keys \[vocab, merges\]; expected a Hugging Face tokenizer.json/,
    );
    expect(() => loadTokenizer('{"model": {"type": "Unigram"}}')).toThrow(
      'model.type is "Unigram"; expected "BPE"',
    );
    expect(() => loadTokenizer('{oops')).toThrow(/starts with '\{' but is not valid JSON/);
  });
});
