import { describe, expect, it } from 'vitest';
import { mapLayers } from './layer-map.js';

const pairs = (p: { student: number; teacher: number }[]) => p.map((x) => [x.student, x.teacher]);

describe('mapLayers', () => {
  it('uniform: student layer l learns from teacher layer round(l·Lt/Ls)', () => {
    expect(pairs(mapLayers(2, 4, { kind: 'uniform' }))).toEqual([
      [1, 2],
      [2, 4],
    ]);
    expect(pairs(mapLayers(4, 12, { kind: 'uniform' }))).toEqual([
      [1, 3],
      [2, 6],
      [3, 9],
      [4, 12],
    ]);
    expect(pairs(mapLayers(3, 4, { kind: 'uniform' }))).toEqual([
      [1, 1],
      [2, 3],
      [3, 4],
    ]);
    expect(pairs(mapLayers(3, 3, { kind: 'uniform' }))).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it("last-k: the teacher's top layers", () => {
    expect(pairs(mapLayers(2, 6, { kind: 'last-k' }))).toEqual([
      [1, 5],
      [2, 6],
    ]);
    expect(() => mapLayers(4, 2, { kind: 'last-k' })).toThrow(
      /'last-k' needs studentLayers \(4\) ≤ teacherLayers \(2\)/,
    );
  });

  it('explicit: validated against both depths and sorted', () => {
    expect(pairs(mapLayers(3, 6, { kind: 'explicit', map: { 3: 6, 1: 2 } }))).toEqual([
      [1, 2],
      [3, 6],
    ]);
    expect(pairs(mapLayers(2, 2, { kind: 'explicit', map: new Map([[2, 1]]) }))).toEqual([[2, 1]]);
    expect(() => mapLayers(2, 4, { kind: 'explicit', map: { 3: 1 } })).toThrow(
      /student layer 3; expected an integer in 1…2/,
    );
    expect(() => mapLayers(2, 4, { kind: 'explicit', map: { 1: 5 } })).toThrow(
      /sends student layer 1 to teacher layer 5; expected an integer in 1…4/,
    );
    expect(() => mapLayers(2, 4, { kind: 'explicit', map: { 0: 1 } })).toThrow(/student layer 0/);
    expect(() => mapLayers(2, 4, { kind: 'explicit', map: {} })).toThrow(/explicit map is empty/);
  });

  it('rejects bad depths and kinds', () => {
    expect(() => mapLayers(0, 4, { kind: 'uniform' })).toThrow(/studentLayers is 0/);
    expect(() => mapLayers(2, 1.5, { kind: 'uniform' })).toThrow(/teacherLayers is 1.5/);
    expect(() => mapLayers(2, 4, { kind: 'skip' } as never)).toThrow(/spec.kind is 'skip'/);
  });
});
