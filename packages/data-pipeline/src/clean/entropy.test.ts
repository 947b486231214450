import { describe, expect, it } from 'vitest';
import { characterEntropy, entropyFilter, shannonEntropy, wordEntropy } from './index.js';

describe('entropy', () => {
  it('matches hand-computed entropies', () => {
    expect(characterEntropy('')).toBe(0);
    expect(characterEntropy('aaaa')).toBe(0);
    expect(characterEntropy('aabb')).toBeCloseTo(1, 12);
    expect(characterEntropy('abcd')).toBeCloseTo(2, 12);
    // -(3/4 log2 3/4 + 1/4 log2 1/4)
    expect(characterEntropy('aaab')).toBeCloseTo(0.811278, 6);
    // 6 letters once, l three times, o twice, over 11 characters:
    // 6/11 log2 11 + 3/11 log2(11/3) + 2/11 log2(11/2)
    expect(characterEntropy('hello world')).toBeCloseTo(2.845351, 6);
    // Code points, not UTF-16 units: two astral symbols are two symbols.
    expect(characterEntropy('😀😁')).toBeCloseTo(1, 12);
    expect(wordEntropy('the cat the dog')).toBeCloseTo(1.5, 12);
    expect(shannonEntropy([1, 2, 3, 4, 5, 6, 7, 8])).toBeCloseTo(3, 12);
  });

  it('filters below and above the thresholds with reasons', () => {
    const step = entropyFilter({ min: 3.5 });
    const low = step.apply({ id: 'a', text: 'abababababababababababab' });
    expect(low).toEqual({
      action: 'remove',
      reason: 'low-entropy',
      detail: '1.000 bits/char < 3.5',
    });
    const prose = 'The quick brown fox jumps over the lazy dog near the riverbank.';
    expect(step.apply({ id: 'b', text: prose }).action).toBe('keep');
    const capped = entropyFilter({ min: 0, max: 2 });
    expect(capped.apply({ id: 'c', text: prose })).toMatchObject({
      action: 'remove',
      reason: 'high-entropy',
    });
    const tokens = entropyFilter({ tokenize: (t) => t.split(' '), min: 1.6 });
    expect(tokens.name).toBe('token-entropy');
    expect(tokens.apply({ id: 'd', text: 'the cat the dog' })).toMatchObject({
      reason: 'low-entropy',
    });
    expect(() => entropyFilter({ min: 4, max: 3 })).toThrow(/bounds are \[4, 3\]/);
  });
});
