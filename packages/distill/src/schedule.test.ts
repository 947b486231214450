import { describe, expect, it } from 'vitest';
import { DEFAULT_STAGE_WEIGHTS, DistillationSchedule } from './schedule.js';

describe('DistillationSchedule', () => {
  const schedule = new DistillationSchedule([
    { kind: 'features', steps: 3 },
    { kind: 'attention', steps: 2, weights: { relation: 0.5 } },
    { kind: 'logits', steps: 4, temperature: 2, weights: { hard: 0.5 } },
  ]);

  it('walks features → attention → logits and stays in the last stage', () => {
    expect(schedule.totalSteps).toBe(9);
    const kinds = Array.from({ length: 11 }, (_, s) => schedule.stageAt(s).kind);
    expect(kinds).toEqual([
      'features',
      'features',
      'features',
      'attention',
      'attention',
      'logits',
      'logits',
      'logits',
      'logits',
      'logits',
      'logits',
    ]);
    expect(schedule.stageAt(4)).toMatchObject({ index: 1, stepInStage: 1, temperature: 1 });
    expect(schedule.stageAt(4).weights).toEqual({
      ...DEFAULT_STAGE_WEIGHTS.attention,
      relation: 0.5,
    });
    expect(schedule.stageAt(6)).toMatchObject({ index: 2, stepInStage: 1, temperature: 2 });
    expect(schedule.stageAt(6).weights).toEqual({ ...DEFAULT_STAGE_WEIGHTS.logits, hard: 0.5 });
    expect(schedule.stageAt(0).weights.hidden).toBe(1);
  });

  it('rejects bad stages naming the field', () => {
    expect(() => new DistillationSchedule([])).toThrow(/stages is empty/);
    expect(() => new DistillationSchedule([{ kind: 'logits', steps: 0 }])).toThrow(
      /stages\[0\]\.steps is 0/,
    );
    expect(() => new DistillationSchedule([{ kind: 'mlp' as never, steps: 1 }])).toThrow(
      /stages\[0\]\.kind is 'mlp'/,
    );
    expect(() => new DistillationSchedule([{ kind: 'logits', steps: 1, temperature: -1 }])).toThrow(
      /temperature is -1/,
    );
    expect(
      () => new DistillationSchedule([{ kind: 'logits', steps: 1, weights: { logits: -2 } }]),
    ).toThrow(/weights\.logits is -2/);
    expect(
      () =>
        new DistillationSchedule([{ kind: 'logits', steps: 1, weights: { logit: 1 } as never }]),
    ).toThrow(/unknown term 'logit'/);
    expect(
      () => new DistillationSchedule([{ kind: 'logits', steps: 1, weights: { logits: 0 } }]),
    ).toThrow(/weights are all 0/);
    expect(() => schedule.stageAt(-1)).toThrow(/step is -1/);
  });
});
