import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BleuOptions, computeBleu, corpusBleu, formatBleu, sentenceBleu } from './bleu.js';
import { tokenize13a } from './tokenizer-13a.js';

// sacreBLEU's README example and its test suite (test/test_bleu.py, test/test_sentence_bleu.py).
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe('corpusBleu against sacreBLEU published values', () => {
  it('reproduces the README example: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ...)', () => {
    const s = corpusBleu(HYPS, REFS);
    expect(formatBleu(s)).toBe(
      'BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)',
    );
    expect(s.score).toBeCloseTo(48.530827, 6);
  });

  it.each<[string, readonly string[], BleuOptions, number]>([
    ['empty hypotheses', ['', '', ''], {}, 0],
    ['tokenize none', HYPS, { tokenize: 'none' }, 49.1919566],
    ['tokenize 13a', HYPS, { tokenize: '13a' }, 48.530827],
    ['smooth none', HYPS, { smoothMethod: 'none' }, 48.530827],
  ])('test_corpus_bleu: %s', (_name, hyps, options, expected) => {
    expect(Math.abs(corpusBleu(hyps, REFS, options).score - expected)).toBeLessThan(1e-6);
  });

  // raw_corpus_bleu = tokenize none, floor smoothing, effective order.
  const raw = (hyps: string[], refs: string[], smoothValue: number): number =>
    corpusBleu(hyps, [refs], {
      tokenize: 'none',
      smoothMethod: 'floor',
      smoothValue,
      effectiveOrder: true,
    }).score / 100;

  it.each<[string[], string[], number]>([
    // 0.0038 before sacreBLEU 2.0; since its issue #141 no unigram match means 0.
    [['this is a test', 'another test'], ['ref1', 'ref2'], 0],
    [['this is a test'], ['this is a test'], 1.0],
    [['this is a fest'], ['this is a test'], 0.223606797749979],
    [['test'], ['a test'], 0.3678794411714425],
    [['a test'], ['a test'], 1.0],
    [['a little test'], ['a test'], 0.03218297948685433],
  ])('test_raw_bleu / test_effective_order: %j vs %j', (hyps, refs, expected) => {
    expect(Math.abs(raw(hyps, refs, 0.01) - expected)).toBeLessThan(1e-8);
  });

  it('test_statistics and test_offset', () => {
    const hyp = 'am I am a character sequence';
    const ref = 'I am a symbol string sequence a a';
    const s = corpusBleu([hyp], [[ref]], {
      tokenize: 'none',
      smoothMethod: 'floor',
      smoothValue: 0.01,
      effectiveOrder: true,
    });
    expect(s.counts).toEqual([4, 2, 1, 0]);
    expect(s.totals).toEqual([6, 5, 4, 3]);
    const opts = { tokenize: 'none', smoothMethod: 'floor', effectiveOrder: true } as const;
    expect(corpusBleu([hyp], [[ref]], { ...opts, smoothValue: 0 }).score).toBe(0);
    expect(Math.abs(corpusBleu([hyp], [[ref]], opts).score / 100 - 0.1555722182)).toBeLessThan(
      1e-8,
    );
  });

  it('test_scoring: compute_bleu on fixed statistics', () => {
    const s = computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11);
    expect(Math.abs(s.score / 100 - 0.8375922397)).toBeLessThan(1e-8);
  });

  it.each<[number[], number[], number, number, number]>([
    [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0],
    [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0],
    [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
    [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
  ])('test_degenerate_statistics %j %j', (counts, totals, sys, ref, offset) => {
    expect(
      computeBleu(counts, totals, sys, ref, { smoothMethod: 'floor', smoothValue: offset }).score,
    ).toBe(0);
  });

  // test_sentence_bleu.py: an example from sacreBLEU issue #98, effective order on.
  const REF98 = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS98 = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  it.each<[BleuOptions, number]>([
    [{ smoothMethod: 'exp' }, 8.493],
    [{ smoothMethod: 'none' }, 0.0],
    [{ smoothMethod: 'floor' }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.1 }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.5 }, 10.1],
    [{ smoothMethod: 'add-k' }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 1 }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 2 }, 21.389],
    [{ smoothMethod: 'exp', tokenize: 'none' }, 7.347],
  ])('test_sentence_bleu %j', (options, expected) => {
    const s = sentenceBleu(SYS98, [REF98], { ...options, effectiveOrder: true });
    expect(Math.abs(s.score - expected)).toBeLessThan(1e-3);
  });

  it('scores 0 when nothing matches, whatever the smoothing (issue #141)', () => {
    for (const smoothMethod of ['exp', 'none', 'floor', 'add-k'] as const) {
      expect(
        sentenceBleu('this is a cat', ['okay thanks'], { smoothMethod, effectiveOrder: true })
          .score,
      ).toBe(0);
    }
  });
});

describe('against sacreBLEU 2.6.0 itself (fixture written by scripts/sacrebleu-fixture.py)', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('./fixtures/sacrebleu-2.6.0.json', import.meta.url), 'utf8'),
  ) as {
    tokenize13a: [string, string][];
    corpus: {
      options: BleuOptions;
      hyps: string[];
      refs: string[][];
      score: number;
      counts: number[];
      totals: number[];
      sys_len: number;
      ref_len: number;
    }[];
  };

  it.each(fixture.tokenize13a)('tokenize13a(%j)', (line, expected) => {
    expect(tokenize13a(line)).toBe(expected);
  });

  it.each(fixture.corpus.map((c, i) => [i, c] as const))('corpus case %i', (_i, c) => {
    const s = corpusBleu(c.hyps, c.refs, c.options);
    expect(s.counts).toEqual(c.counts);
    expect(s.totals).toEqual(c.totals);
    expect(s.sysLen).toBe(c.sys_len);
    expect(s.refLen).toBe(c.ref_len);
    expect(Math.abs(s.score - c.score)).toBeLessThan(1e-9);
  });
});

describe('argument errors', () => {
  it('names the reference stream whose length is wrong', () => {
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(
      'corpusBleu: reference stream 0 has 1 segments; expected 2 (one per hypothesis)',
    );
    expect(() => corpusBleu(['a'], [])).toThrow('references is empty');
    expect(() => corpusBleu(['a'], [['a']], { tokenize: 'intl' as never })).toThrow(
      `tokenize is "intl"`,
    );
  });
});
