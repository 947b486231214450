import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../random/xoshiro128.js';
import { WordNet, WordNetIndexFile, wordnetDirectory } from './index.js';

describe('WordNet', () => {
  const wordnet = WordNet.open();

  it('finds known synonyms in WordNet 3.1', () => {
    expect(wordnet.synonyms('car', 'noun')).toContain('automobile');
    expect(wordnet.synonyms('automobile', 'noun')).toContain('car');
    expect(wordnet.synonyms('happy', 'adj')).toContain('glad');
    expect(wordnet.synonyms('quick')).toEqual(expect.arrayContaining(['fast', 'speedy']));
    expect(wordnet.synonyms('buy', 'verb')).toContain('purchase');
    expect(wordnet.synonyms('Hot dog')).toContain('frankfurter');
    expect(wordnet.synonyms('car')).not.toContain('car');
    expect(wordnet.synonyms('qwzxv')).toEqual([]);
  });

  it('reads synsets by byte offset', () => {
    const [dog] = wordnet.synsets('dog', 'noun');
    expect(dog!.lemmas).toEqual(['dog', 'domestic_dog', 'Canis_familiaris']);
    expect(dog!.gloss).toMatch(/^a member of the genus Canis/);
    expect(wordnet.synsets('dog', 'noun')).toHaveLength(7);
    expect(() => wordnet.synsets('dog', 'pronoun' as never)).toThrow(/pos is "pronoun"/);
  });

  it('bisection agrees with a linear scan of the index file', () => {
    const path = join(wordnetDirectory(), 'index.adv');
    const linear = new Map<string, number[]>();
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const f = line.trim().split(' ');
      const n = Number(f[2]);
      const p = Number(f[3]);
      linear.set(f[0]!, f.slice(6 + p, 6 + p + n).map(Number));
    }
    const index = new WordNetIndexFile(path);
    const lemmas = [...linear.keys()];
    const rng = new Xoshiro128(9);
    for (let i = 0; i < 300; i++) {
      const lemma = lemmas[rng.nextInt(lemmas.length)]!;
      expect(index.lookup(lemma)?.synsetOffsets).toEqual(linear.get(lemma));
      // Neighbouring strings that are not lemmas are not found.
      for (const probe of [`${lemma}~`, lemma.slice(0, -1)]) {
        expect(index.lookup(probe)?.synsetOffsets).toEqual(linear.get(probe));
      }
    }
    expect(index.lookup(lemmas[0]!)).toBeDefined();
    expect(index.lookup(lemmas.at(-1)!)).toBeDefined();
    expect(index.lookup('')).toBeUndefined();
  });

  it('refuses a directory without WordNet files', () => {
    expect(() => WordNet.open('/nonexistent')).toThrow(/has no index.noun/);
  });
});
