import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../random/xoshiro128.js';
import {
  augmentDocuments,
  augmentText,
  backTranslation,
  randomDeletion,
  randomInsertion,
  randomSwap,
  sentenceShuffle,
  splitSentences,
  synonymReplacement,
  WordNet,
} from './index.js';

const wordnet = WordNet.open();
const text =
  'The quick driver parked the car near the old house.\nShe was happy with the journey, and the children laughed.';

const words = (t: string) => t.split(/\s+/).filter((w) => w.length > 0);

describe('synonym replacement', () => {
  it('replaces words with WordNet synonyms only, deterministically', () => {
    const aug = synonymReplacement({ wordnet, fraction: 0.3 });
    const a = aug.apply(text, new Xoshiro128(1));
    expect(aug.apply(text, new Xoshiro128(1))).toBe(a);
    expect(a).not.toBe(text);
    const before = words(text);
    const after = words(a);
    // Multi-word synonyms add tokens; compare the changed positions through WordNet.
    let changed = 0;
    const strip = (w: string) => w.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    for (let i = 0, j = 0; i < before.length; i++, j++) {
      if (before[i] === after[j]) continue;
      changed++;
      const original = strip(before[i]!);
      const synonyms = wordnet.synonyms(original);
      const hit = synonyms.find(
        (s) =>
          after
            .slice(j, j + s.split(' ').length)
            .map(strip)
            .join(' ')
            .toLowerCase() === s.toLowerCase(),
      );
      expect(hit, `${before[i]} -> ${after[j]}`).toBeDefined();
      j += hit!.split(' ').length - 1;
    }
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(Math.round(0.3 * before.length));
    expect(a.includes('\n')).toBe(true); // line break kept
  });

  it('replaces car with a synonym such as automobile', () => {
    const aug = synonymReplacement({ wordnet, fraction: 1 });
    const seen = new Set<string>();
    for (let s = 0; s < 40; s++) seen.add(aug.apply('car', new Xoshiro128(s)));
    expect(seen.has('automobile')).toBe(true);
    expect(seen.has('car')).toBe(false);
    expect(aug.apply('Car.', new Xoshiro128(0))).toMatch(/^[A-Z][^.]*\.$/);
  });

  it('inserts synonyms of words of the text', () => {
    const out = randomInsertion({ wordnet, fraction: 0.2 }).apply(
      'the car is fast',
      new Xoshiro128(4),
    );
    const added = words(out).length - 4;
    expect(added).toBeGreaterThan(0);
    expect(out).toBe(
      randomInsertion({ wordnet, fraction: 0.2 }).apply('the car is fast', new Xoshiro128(4)),
    );
  });
});

describe('EDA swap and deletion', () => {
  it('swap keeps the multiset of words', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 0, maxLength: 40 }),
        fc.nat(),
        (ws, seed) => {
          const t = ws.join(' ');
          const out = randomSwap({ fraction: 0.3 }).apply(t, new Xoshiro128(seed));
          return JSON.stringify(words(out).sort()) === JSON.stringify(words(t).sort());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('deletion keeps an ordered subsequence and at least one word', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (ws, seed, p) => {
          const out = words(
            randomDeletion({ probability: p }).apply(ws.join(' '), new Xoshiro128(seed)),
          );
          if (out.length === 0) return false;
          let k = 0;
          for (const w of ws) if (k < out.length && out[k] === w) k++;
          return k === out.length;
        },
      ),
      { numRuns: 200 },
    );
    const all = randomDeletion({ probability: 1 }).apply('a b c', new Xoshiro128(0));
    expect(words(all)).toHaveLength(1);
    expect(() => randomDeletion({ probability: 2 })).toThrow(/probability is 2/);
  });
});

describe('sentence shuffle', () => {
  it('reorders sentences within paragraphs, keeping each sentence', () => {
    const para1 = 'One is first. Two is second! Three is third? Four is fourth.';
    const para2 = 'Alpha. Beta. Gamma.';
    const input = `${para1}\n\n${para2}`;
    const out = sentenceShuffle().apply(input, new Xoshiro128(2));
    const [o1, o2] = out.split('\n\n');
    expect(splitSentences(o1!).sort()).toEqual(splitSentences(para1).sort());
    expect(splitSentences(o2!).sort()).toEqual(splitSentences(para2).sort());
    const orders = new Set<string>();
    for (let s = 0; s < 20; s++) orders.add(sentenceShuffle().apply(para1, new Xoshiro128(s)));
    expect(orders.size).toBeGreaterThan(5);
  });
});

describe('back-translation hook', () => {
  it('translates through the pivot and back', async () => {
    const calls: string[] = [];
    const translate = async (t: string, from: string, to: string) => {
      calls.push(`${from}->${to}`);
      return `${to}(${t})`;
    };
    const aug = backTranslation({ translate, pivot: 'de' });
    expect(await aug.apply('hi', new Xoshiro128(0))).toBe('en(de(hi))');
    expect(calls).toEqual(['en->de', 'de->en']);
    const multi = backTranslation({ translate, pivot: ['fr', 'es', 'ja'] });
    const pivots = new Set<string>();
    for (let s = 0; s < 30; s++)
      pivots.add((await multi.apply('x', new Xoshiro128(s))).slice(3, 5));
    expect(pivots).toEqual(new Set(['fr', 'es', 'ja']));
    expect(() => backTranslation({ translate: 'no' as never })).toThrow(
      /options.translate is string/,
    );
  });
});

describe('augmentDocuments', () => {
  it('is deterministic under the seed and tags copies', async () => {
    const docs = [
      { id: 'a', text: 'The car was fast and the road was long.' },
      { id: 'b', text: 'A happy child ran home. The dog followed.' },
    ];
    const augs = [synonymReplacement({ wordnet, fraction: 0.2 }), randomSwap(), sentenceShuffle()];
    const run = async (seed: number) => {
      const out = [];
      for await (const d of augmentDocuments(docs, augs, { seed, copies: 2 })) out.push(d);
      return out;
    };
    const first = await run(5);
    expect(first.map((d) => d.id)).toEqual(['a', 'a#aug0', 'a#aug1', 'b', 'b#aug0', 'b#aug1']);
    expect(await run(5)).toEqual(first);
    expect((await run(6)).map((d) => d.text)).not.toEqual(first.map((d) => d.text));
    expect((first[1] as { meta?: unknown }).meta).toEqual({
      augmentedFrom: 'a',
      augmentations: ['synonym-replacement', 'random-swap', 'sentence-shuffle'],
    });
    expect(await augmentText(docs[0]!.text, augs, 1)).toBe(
      await augmentText(docs[0]!.text, augs, 1),
    );
  });
});
