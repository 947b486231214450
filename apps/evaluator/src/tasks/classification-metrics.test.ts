import { describe, expect, it } from 'vitest';
import { classificationMetrics } from './classification-metrics.js';

describe('classificationMetrics', () => {
  it('matches values computed by hand', () => {
    // gold:  a a a b b c
    // pred:  a a b b c c
    // a: tp 2, fp 0, fn 1 → P 1, R 2/3, F1 0.8
    // b: tp 1, fp 1, fn 1 → P 1/2, R 1/2, F1 1/2
    // c: tp 1, fp 1, fn 0 → P 1/2, R 1, F1 2/3
    // macro = (0.8 + 0.5 + 2/3) / 3 = 0.65555…; micro = accuracy = 4/6
    const m = classificationMetrics(['a', 'a', 'a', 'b', 'b', 'c'], ['a', 'a', 'b', 'b', 'c', 'c']);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.microF1).toBeCloseTo(4 / 6, 12);
    expect(m.perClass.map((c) => [c.label, c.precision, c.recall, c.support])).toEqual([
      ['a', 1, 2 / 3, 3],
      ['b', 0.5, 0.5, 2],
      ['c', 0.5, 1, 1],
    ]);
  });

  it('counts a class only ever predicted (never gold) with F1 0, like scikit-learn', () => {
    // gold: x x y; pred: x z y. x: P 1 R 1/2 F1 2/3; y: F1 1; z: P 0 R 0 F1 0.
    const m = classificationMetrics(['x', 'x', 'y'], ['x', 'z', 'y']);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 1 + 0) / 3, 12);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.microF1).toBeCloseTo(2 / 3, 12);
  });

  it('gives 1 for perfect predictions and 0 for none right', () => {
    expect(classificationMetrics(['a', 'b'], ['a', 'b'])).toMatchObject({
      accuracy: 1,
      macroF1: 1,
      microF1: 1,
    });
    expect(classificationMetrics(['a', 'a'], ['b', 'b'])).toMatchObject({
      accuracy: 0,
      macroF1: 0,
      microF1: 0,
    });
  });

  it('rejects mismatched lengths naming the argument', () => {
    expect(() => classificationMetrics(['a'], [])).toThrow(
      'classificationMetrics: predicted has 0 labels; expected 1 (one per gold label)',
    );
  });
});
