// Parity with reference implementations: r50k_base (GPT-2) and cl100k_base loaded from the rank
// data that js-tiktoken publishes must give the ids js-tiktoken and gpt-tokenizer give.
import * as gptR50k from 'gpt-tokenizer/encoding/r50k_base';
import * as gptCl100k from 'gpt-tokenizer/encoding/cl100k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBundle from 'js-tiktoken/ranks/cl100k_base';
import r50kBundle from 'js-tiktoken/ranks/r50k_base';
import { beforeAll, describe, expect, it } from 'vitest';

import type { ByteLevelBpe } from './bpe-encoder.js';
import { CL100K_PATTERN } from './pattern.js';
import { fromJsTiktokenBundle } from './tiktoken-ranks.js';
import { brownDocuments, brownText } from './test-utils/brown.js';
import { firstDifference } from './test-utils/compare.js';
import { LONE_SURROGATE_SAMPLES, VARIED_SAMPLES } from './test-utils/samples.js';

const noSpecial = { disallowedSpecial: new Set<string>() };

interface Case {
  name: string;
  bundle: typeof r50kBundle;
  gpt: typeof gptR50k;
}

const cases: Case[] = [
  { name: 'r50k_base (GPT-2)', bundle: r50kBundle, gpt: gptR50k },
  { name: 'cl100k_base', bundle: cl100kBundle, gpt: gptCl100k },
];

describe.each(cases)('$name parity', ({ bundle, gpt }) => {
  let ours: ByteLevelBpe;
  let replacing: ByteLevelBpe;
  let reference: Tiktoken;

  beforeAll(() => {
    ours = fromJsTiktokenBundle(bundle);
    replacing = fromJsTiktokenBundle(bundle, { loneSurrogates: 'replace' });
    reference = new Tiktoken(bundle);
  });

  it('matches gpt-tokenizer on the whole Brown corpus and js-tiktoken on a quarter of it', () => {
    // js-tiktoken is about ten times slower than gpt-tokenizer, so it checks 1.5 MB of the 6 MB.
    const text = brownText();
    expect(text.length).toBeGreaterThan(5_000_000);
    const ids = ours.encode(text);
    expect(firstDifference(ids, gpt.encode(text, noSpecial))).toBeUndefined();
    const quarter = text.slice(0, 1_500_000);
    expect(
      firstDifference(ours.encode(quarter), reference.encode(quarter, [], [])),
    ).toBeUndefined();
    expect(ours.decode(ids)).toBe(text);
  });

  it('matches js-tiktoken document by document (segment ends, trailing whitespace)', () => {
    for (const doc of brownDocuments().slice(0, 60)) {
      const piece = doc.slice(0, 4000) + '\n  ';
      expect(firstDifference(ours.encode(piece), reference.encode(piece, [], []))).toBeUndefined();
    }
  });

  it.each(VARIED_SAMPLES.map((s, i) => [i, s] as const))(
    'matches both references on varied sample %i',
    (_i, sample) => {
      const ids = ours.encode(sample);
      expect(ids).toEqual(reference.encode(sample, [], []));
      expect(ids).toEqual(gpt.encode(sample, noSpecial));
      expect(ours.decode(ids)).toBe(sample);
      expect(ours.encodeBatch([sample, sample])).toEqual([ids, ids]);
    },
  );

  it('matches with special tokens allowed', () => {
    const text = `Doc one.<|endoftext|>Doc two <|endoftext|><|endoftext|>end`;
    const ids = ours.encode(text, { allowedSpecial: 'all' });
    expect(ids).toEqual(reference.encode(text, 'all'));
    // gpt-tokenizer 3.0.1 finds allowed special tokens only at the start of the text (its
    // special-token regex is sticky), so it is the oracle only for that position.
    expect(ours.encode('<|endoftext|>x', { allowedSpecial: 'all' })).toEqual(
      gpt.encode('<|endoftext|>x', { allowedSpecial: 'all' }),
    );
    expect(ours.decode(ids)).toBe(text);
    expect(ours.decode(ids, { skipSpecialTokens: true })).toBe('Doc one.Doc two end');
  });

  it("matches on lone surrogates in 'replace' mode (the references' U+FFFD handling)", () => {
    for (const sample of LONE_SURROGATE_SAMPLES) {
      const ids = replacing.encode(sample);
      expect(ids).toEqual(reference.encode(sample, [], []));
      expect(ids).toEqual(gpt.encode(sample, noSpecial));
      expect(replacing.decode(ids)).toBe(reference.decode(ids));
    }
  });

  it("round-trips lone surrogates in the default 'wtf8' mode and matches elsewhere", () => {
    for (const sample of LONE_SURROGATE_SAMPLES) {
      expect(ours.decode(ours.encode(sample))).toBe(sample);
    }
    // Text around the surrogate is tokenised exactly as the reference tokenises it.
    const ids = ours.encode('before \ud800 after');
    const ref = reference.encode('before \ud800 after', [], []);
    expect(ids.slice(0, 1)).toEqual(ref.slice(0, 1));
    expect(ids.slice(-1)).toEqual(ref.slice(-1));
  });
});

describe('cl100k_base with the current tiktoken pattern', () => {
  it('gives the same ids as the original pattern on Brown and the samples', () => {
    const current = fromJsTiktokenBundle(cl100kBundle, { patterns: [CL100K_PATTERN] });
    const reference = new Tiktoken(cl100kBundle);
    const docs = brownDocuments().slice(0, 30);
    for (const text of [...docs, ...VARIED_SAMPLES]) {
      expect(firstDifference(current.encode(text), reference.encode(text, [], []))).toBeUndefined();
    }
  });
});
