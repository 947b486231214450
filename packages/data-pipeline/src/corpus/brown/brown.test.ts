import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import {
  assignSplits,
  BROWN_CATEGORIES,
  brownCorpusDirectory,
  detokenizeBrownParagraph,
  loadBrownCorpus,
  parseBrownTagged,
} from './index.js';
import type { BrownDocument } from './index.js';

let all: BrownDocument[];

beforeAll(async () => {
  all = await loadBrownCorpus();
});

describe('Brown corpus adapter', () => {
  it('has the 500 documents of the 15 genres', () => {
    expect(all).toHaveLength(500);
    const ids = new Set(all.map((d) => d.id));
    expect(ids.size).toBe(500);
    const byGenre = new Map<string, number>();
    for (const d of all) byGenre.set(d.meta!.category, (byGenre.get(d.meta!.category) ?? 0) + 1);
    // Counts from the corpus manual (and NLTK's cats.txt).
    expect(Object.fromEntries(byGenre)).toEqual({
      a: 44,
      b: 27,
      c: 17,
      d: 17,
      e: 36,
      f: 48,
      g: 75,
      h: 30,
      j: 80,
      k: 29,
      l: 24,
      m: 6,
      n: 29,
      p: 29,
      r: 9,
    });
    expect(all.find((d) => d.id === 'brown/cj07')!.meta!.categoryName).toBe('learned');
    // About 1.16 million tagged tokens in total.
    const tokens = all.reduce((s, d) => s + d.meta!.tokens, 0);
    expect(tokens).toBeGreaterThan(1_150_000);
    expect(tokens).toBeLessThan(1_170_000);
  });

  it('agrees with the genre list shipped in the package', async () => {
    const { readFile } = await import('node:fs/promises');
    const cats = await readFile(`${brownCorpusDirectory()}/cats.txt`, 'utf8');
    for (const line of cats.trim().split('\n')) {
      const [file, name] = line.trim().split(/\s+/);
      const doc = all.find((d) => d.meta!.fileId === file)!;
      expect(doc.meta!.categoryName).toBe(name);
    }
  });

  it('leaves no tags or corpus quote marks in the text', () => {
    const tag =
      /\S\/(at|nn|np|nns|vbd|vbz|vb|in|jj|cc|rb|pps|ppss|cs|dt|cd|md|to)(-tl|-hl)?(?=\s|$)/;
    for (const d of all) {
      expect(tag.test(d.text), d.id).toBe(false);
      expect(d.text.includes('``'), d.id).toBe(false);
      expect(/ [,.;:?!)](\s|$)/.test(d.text), d.id).toBe(false);
    }
    expect(
      all[0]!.text.startsWith(
        'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
      ),
    ).toBe(true);
  });

  it('splits deterministically, disjointly, with every genre in both splits', async () => {
    const train = await loadBrownCorpus({ split: 'train' });
    const validation = await loadBrownCorpus({ split: 'validation' });
    expect(train.length + validation.length).toBe(500);
    const trainIds = new Set(train.map((d) => d.id));
    expect(validation.some((d) => trainIds.has(d.id))).toBe(false);
    expect(validation.length).toBeGreaterThanOrEqual(45);
    expect(validation.length).toBeLessThanOrEqual(55);
    for (const letter of Object.keys(BROWN_CATEGORIES)) {
      expect(train.some((d) => d.meta!.category === letter)).toBe(true);
      expect(validation.some((d) => d.meta!.category === letter)).toBe(true);
    }
    // Same result again, and independent of the order the files are listed in.
    const again = await loadBrownCorpus({ split: 'validation' });
    expect(again.map((d) => d.id)).toEqual(validation.map((d) => d.id));
    const files = readdirSync(brownCorpusDirectory()).filter((f) => /^c[a-r]\d\d$/.test(f));
    const forward = assignSplits(
      files.map((id) => ({ id, group: id[1]! })),
      0.1,
    );
    const backward = assignSplits(
      [...files].reverse().map((id) => ({ id, group: id[1]! })),
      0.1,
    );
    expect([...backward].sort()).toEqual([...forward].sort());
    for (const d of all) expect(forward.get(d.meta!.fileId)).toBe(d.meta!.split);
  });

  it('rejects a bad split argument', async () => {
    await expect(loadBrownCorpus({ split: 'test' as never })).rejects.toThrow(/split is "test"/);
    expect(() => assignSplits([], 1)).toThrow(/validationFraction is 1/);
  });
});

describe('parseBrownTagged and detokenizeBrownParagraph', () => {
  it('splits tokens at the last slash and paragraphs at blank lines', () => {
    const raw =
      '\n\n\tHe/pps ate/vbd 1-1/2/cd pies/nns ./.\n\n\n\tThen/rb slept/vbd ./.\nOK/uh ./.\n';
    const paragraphs = parseBrownTagged(raw);
    expect(paragraphs).toHaveLength(2);
    expect(paragraphs[0]![0]![2]).toEqual({ word: '1-1/2', tag: 'cd' });
    expect(paragraphs[1]).toHaveLength(2);
  });

  it('places spaces and quotes as in print', () => {
    const words = (s: string) => [s.split(' ').map((w) => ({ word: w, tag: 'x' }))];
    expect(detokenizeBrownParagraph(words("`` Yes '' , he said ( quietly ) : `` go ! ''"))).toBe(
      '"Yes", he said (quietly): "go!"',
    );
    expect(detokenizeBrownParagraph(words("the ' Met ' is back ; costs $ 5 ."))).toBe(
      "the 'Met' is back; costs $5.",
    );
    expect(detokenizeBrownParagraph(words('a -- b'))).toBe('a -- b');
  });
});
