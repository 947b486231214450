import fc from 'fast-check';
import cl100kBundle from 'js-tiktoken/ranks/cl100k_base';
import r50kBundle from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';

import { trainByteLevelBpe } from './bpe-trainer.js';
import { CL100K_PATTERN } from './pattern.js';
import { fromJsTiktokenBundle } from './tiktoken-ranks.js';
import { brownDocuments } from './test-utils/brown.js';

/** Any UTF-16 code unit sequence, weighted towards surrogates, whitespace and ASCII. */
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(' ', '\n', '\t', "'", 'a', 'Z', '1', '.', '😀', '中'),
);
const anyString = fc.string({ unit, maxLength: 60 });

function toWellFormed(s: string): string {
  return s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

const tokenizers = {
  r50k: fromJsTiktokenBundle(r50kBundle),
  cl100k: fromJsTiktokenBundle(cl100kBundle, { patterns: [CL100K_PATTERN] }),
  trained: trainByteLevelBpe(brownDocuments().slice(0, 5), { vocabSize: 1000 }),
};

describe.each(Object.entries(tokenizers))('%s round trip', (_name, bpe) => {
  it('decode(encode(s)) === s for arbitrary strings, lone surrogates included', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(bpe.decode(bpe.encode(s))).toBe(s);
      }),
      { numRuns: 400 },
    );
  });

  it('encodeBatch equals encoding one by one, and pieces encode independently of context', () => {
    fc.assert(
      fc.property(fc.array(anyString, { maxLength: 5 }), (texts) => {
        expect(bpe.encodeBatch(texts)).toEqual(texts.map((t) => bpe.encode(t)));
      }),
      { numRuns: 100 },
    );
  });
});

describe("'replace' mode", () => {
  it('decodes to the string with lone surrogates replaced by U+FFFD', () => {
    const bpe = fromJsTiktokenBundle(r50kBundle, { loneSurrogates: 'replace' });
    fc.assert(
      fc.property(anyString, (s) => {
        expect(bpe.decode(bpe.encode(s))).toBe(toWellFormed(s));
      }),
      { numRuns: 300 },
    );
  });
});
