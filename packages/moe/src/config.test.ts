import { describe, expect, it } from 'vitest';
import { expertCapacity, resolveMoeConfig, toHfMoeConfig } from './config.js';

describe('resolveMoeConfig', () => {
  it('fills defaults', () => {
    const c = resolveMoeConfig({ expertIntermediateSize: 32 });
    expect(c.numExperts).toBe(8);
    expect(c.topK).toBe(2);
    expect(c.topkGroups).toBe(1);
    expect(c.balance).toEqual({ seeds: 0, switch: 0, zLoss: 0, sequence: 0 });
    expect(resolveMoeConfig({ expertIntermediateSize: 4, groups: 4 }).topkGroups).toBe(4);
  });

  it('rejects bad fields, naming them', () => {
    const bad: [Parameters<typeof resolveMoeConfig>[0], RegExp][] = [
      [{}, /MoeConfig\.expertIntermediateSize is missing; expected a positive integer/],
      [
        { expertIntermediateSize: 0 },
        /MoeConfig\.expertIntermediateSize is 0; expected a positive integer/,
      ],
      [
        { expertIntermediateSize: 4, topK: 9 },
        /MoeConfig\.topK is 9; expected at most numExperts \(8\)/,
      ],
      [
        { expertIntermediateSize: 4, groups: 3 },
        /MoeConfig\.groups is 3; expected a divisor of numExperts \(8\)/,
      ],
      [
        { expertIntermediateSize: 4, groups: 8, topkGroups: 1 },
        /MoeConfig\.topkGroups is 1; its 1 experts cannot fill topK \(2\)/,
      ],
      [
        { expertIntermediateSize: 4, capacityFactor: 0 },
        /MoeConfig\.capacityFactor is 0; expected a number > 0, or null/,
      ],
      [{ expertIntermediateSize: 4, balance: { seeds: -1 } }, /MoeConfig\.balance\.seeds is -1/],
      [{ expertIntermediateSize: 4, scoring: 'relu' as 'softmax' }, /MoeConfig\.scoring is relu/],
      [{ expertIntermediateSize: 4, numSharedExperts: 1.5 }, /MoeConfig\.numSharedExperts is 1\.5/],
    ];
    for (const [input, message] of bad) expect(() => resolveMoeConfig(input)).toThrow(message);
  });

  it('computes capacity and DeepSeek config fields', () => {
    const c = resolveMoeConfig({
      expertIntermediateSize: 4,
      capacityFactor: 1.25,
      biasUpdateRate: 0.001,
    });
    expect(expertCapacity(c, 100)).toBe(Math.ceil((1.25 * 100 * 2) / 8));
    expect(expertCapacity({ ...c, capacityFactor: null }, 100)).toBe(0);
    expect(toHfMoeConfig(c)).toMatchObject({
      n_routed_experts: 8,
      num_experts_per_tok: 2,
      moe_intermediate_size: 4,
      topk_method: 'noaux_tc',
    });
  });
});
