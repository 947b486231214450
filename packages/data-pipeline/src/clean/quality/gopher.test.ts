import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkGopherQuality,
  duplicateNgramChars,
  findDuplicates,
  gopherQualityFilter,
  topNgramChars,
} from './index.js';

const prose =
  'The committee met on Tuesday to discuss the budget for the coming year. Members agreed that ' +
  'the library needs new shelves, and that the park should have better lighting at night. After ' +
  'a long debate, they voted to raise the fee for parking permits by a small amount, with the ' +
  'money going to repairs of the old bridge near the school. The mayor thanked everyone for coming.';

describe('Gopher quality rules', () => {
  it('passes ordinary prose', () => {
    expect(checkGopherQuality(prose)).toBeUndefined();
  });

  it.each([
    ['word-count', 'Too short to keep.'],
    ['mean-word-length', `${'a an to of it is be by '.repeat(10)} the and with`],
    ['mean-word-length', `${'internationalization characteristically '.repeat(30)} the and`],
    ['symbol-word-ratio', `${prose} ${'#tag '.repeat(10)}`],
    [
      'bullet-lines',
      Array.from({ length: 20 }, (_, i) => `- item number ${i} of the list with the and`).join(
        '\n',
      ),
    ],
    [
      'ellipsis-lines',
      Array.from(
        { length: 10 },
        (_, i) => `line ${i} of the long story that we told the children and then...`,
      ).join('\n'),
    ],
    ['alpha-words', `${'12345 67890 24680 13579 '.repeat(20)} the and`],
    [
      'stop-words',
      'Apples bananas cherries dates elderberries figs grapes honeydew kiwis lemons '.repeat(6),
    ],
    ['duplicate-lines', `${prose}\n${'Click here to subscribe.\n'.repeat(5)}`],
  ])('fails %s', (rule, text) => {
    expect(checkGopherQuality(text)?.reason).toBe(`gopher:${rule}`);
  });

  it('catches repeated n-grams', () => {
    const spam = `${prose} ${'buy cheap watches online today '.repeat(12)}`;
    expect(checkGopherQuality(spam)?.reason).toMatch(/^gopher:(top-\d|duplicate-\d+)gram-chars$/);
  });

  it('measures repetition like the reference definitions', () => {
    expect(findDuplicates(['a', 'bb', 'a', 'bb', 'a', 'c'])).toEqual({
      duplicates: 3,
      duplicateChars: 4,
    });
    // "a b" occurs 3 times: 3 x 2 characters.
    expect(topNgramChars(['a', 'b', 'a', 'b', 'a', 'b'], 2)).toBe(6);
    expect(topNgramChars(['a', 'b', 'c'], 2)).toBe(0);
    // Repeats of "x y" at positions 2 and 4 are counted once each, without overlap.
    expect(duplicateNgramChars(['x', 'y', 'x', 'y', 'x', 'y'], 2)).toBe(4);
  });

  it('agrees with direct string-keyed n-gram counting', () => {
    const slowTop = (w: string[], n: number): number => {
      const counts = new Map<string, number>();
      for (let i = 0; i + n <= w.length; i++) {
        const k = w.slice(i, i + n).join(' ');
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      let best = 0;
      let chars = 0;
      for (const [k, c] of counts) {
        const len = k.length - (n - 1);
        if (c > best || (c === best && len > chars)) [best, chars] = [c, len];
      }
      return best > 1 ? best * chars : 0;
    };
    const slowDup = (w: string[], n: number): number => {
      const seen = new Set<string>();
      let chars = 0;
      for (let i = 0; i + n <= w.length;) {
        const k = w.slice(i, i + n).join(' ');
        if (seen.has(k)) {
          chars += k.length - (n - 1);
          i += n;
        } else {
          seen.add(k);
          i++;
        }
      }
      return chars;
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'bb', 'ccc', 'dd', 'e'), { maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        (w, n) => {
          expect(topNgramChars(w, n)).toBe(slowTop(w, n));
          expect(duplicateNgramChars(w, n)).toBe(slowDup(w, n));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is a step with per-rule reasons and checked options', () => {
    const step = gopherQualityFilter({ minWords: 5 });
    expect(step.apply({ id: 'a', text: 'one two' })).toEqual({
      action: 'remove',
      reason: 'gopher:word-count',
      detail: 'word-count 2 < 5',
    });
    expect(() => gopherQualityFilter({ minWord: 3 } as never)).toThrow(
      /options.minWord is not a known threshold/,
    );
  });
});
