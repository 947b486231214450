import { describe, expect, it } from 'vitest';
import { MixtureSampler, mixSources, scheduleValue } from './index.js';
import type { MixtureSource, MixtureState } from './index.js';

const sources: MixtureSource[] = [
  { name: 'code', share: { kind: 'linear', from: 0.05, to: 0.3, steps: 10_000 } },
  { name: 'web', weight: 3 },
  { name: 'books', weight: 1 },
];

describe('schedules', () => {
  it('interpolate linearly and hold their end values', () => {
    const linear = { kind: 'linear', from: 0.05, to: 0.3, steps: 100, start: 50 } as const;
    expect([0, 50, 100, 150, 1000].map((s) => scheduleValue(linear, s))).toEqual([
      0.05, 0.05, 0.175, 0.3, 0.3,
    ]);
    const pw = {
      kind: 'piecewise',
      points: [
        [10, 1],
        [20, 3],
        [40, 0],
      ],
    } as const;
    expect([0, 10, 15, 20, 30, 40, 99].map((s) => scheduleValue(pw, s))).toEqual([
      1, 1, 2, 3, 1.5, 0, 0,
    ]);
    expect(scheduleValue(0.25, 123)).toBe(0.25);
  });
});

describe('MixtureSampler', () => {
  it('splits the rest by weight and draws the scheduled proportions', () => {
    const sampler = new MixtureSampler(sources, { seed: 1 });
    expect(sampler.probabilitiesAt(0)).toEqual([0.05, 0.95 * 0.75, 0.95 * 0.25]);
    expect(sampler.probabilitiesAt(5000).map((p) => +p.toFixed(6))).toEqual([
      0.175, 0.61875, 0.20625,
    ]);
    expect(sampler.probabilitiesAt(20_000)[0]).toBeCloseTo(0.3, 12);
    const window = 2000;
    for (let w = 0; w < 7; w++) {
      let code = 0;
      let web = 0;
      let books = 0;
      let expected = 0;
      let variance = 0;
      for (let i = 0; i < window; i++) {
        const p = sampler.probabilitiesAt(sampler.step)[0]!;
        expected += p;
        variance += p * (1 - p);
        const { source } = sampler.next();
        if (source === 'code') code++;
        else if (source === 'web') web++;
        else books++;
      }
      expect(Math.abs(code - expected)).toBeLessThan(4 * Math.sqrt(variance));
      // The other two keep their 3 : 1 ratio.
      const n = web + books;
      expect(Math.abs(web - 0.75 * n)).toBeLessThan(4 * Math.sqrt(n * 0.75 * 0.25));
    }
    expect(sampler.state().counts).toMatchObject({
      code: expect.any(Number),
      web: expect.any(Number),
    });
  });

  it('is deterministic under the seed and resumes from JSON state', () => {
    const draw = (s: MixtureSampler, n: number) => Array.from({ length: n }, () => s.next().source);
    const a = new MixtureSampler(sources, { seed: 7 });
    const b = new MixtureSampler(sources, { seed: 7 });
    const c = new MixtureSampler(sources, { seed: 8 });
    const seqA = draw(a, 3000);
    expect(draw(b, 3000)).toEqual(seqA);
    expect(draw(c, 3000)).not.toEqual(seqA);

    const first = new MixtureSampler(sources, { seed: 7 });
    draw(first, 1234);
    const saved = JSON.parse(JSON.stringify(first.state())) as MixtureState;
    expect(saved.step).toBe(1234);
    const resumed = new MixtureSampler(sources, { seed: 7, resumeFrom: saved });
    expect(draw(resumed, 3000 - 1234)).toEqual(seqA.slice(1234));
    const counts = resumed.state().counts;
    expect(counts['code']).toBe(seqA.filter((s) => s === 'code').length);
    expect(() => new MixtureSampler(sources, { seed: 8, resumeFrom: saved })).toThrow(
      /resume state has seed 7; expected 8/,
    );
    expect(() => new MixtureSampler(sources.slice(0, 2), { seed: 7, resumeFrom: saved })).toThrow(
      /resume state has sources/,
    );
  });

  it('normalises share-only mixtures and names bad configurations', () => {
    const only = new MixtureSampler([
      { name: 'a', share: 0.2 },
      { name: 'b', share: 0.2 },
    ]);
    expect(only.probabilitiesAt(0)).toEqual([0.5, 0.5]);
    expect(
      () =>
        new MixtureSampler([
          { name: 'a', share: { kind: 'linear', from: 0.5, to: 0.9, steps: 10 } },
          { name: 'b', share: 0.3 },
          { name: 'c', weight: 1 },
        ]),
    ).toThrow(/shares sum to 1.2 at step 10; expected at most 1/);
    expect(() => new MixtureSampler([{ name: 'a', share: 0.5, weight: 1 }])).toThrow(
      /source a has both share and weight/,
    );
    expect(() => new MixtureSampler([{ name: 'a', weight: 0 }])).toThrow(/source a has weight 0/);
    expect(() => new MixtureSampler([{ name: 'a', share: { kind: 'cosine' } as never }])).toThrow(
      /expected a number, \{ kind: 'linear'/,
    );
  });
});

describe('mixSources', () => {
  it('interleaves sources, restarting those given as functions', async () => {
    const sampler = new MixtureSampler(
      [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
      ],
      { seed: 3 },
    );
    const out = [];
    for await (const m of mixSources(
      {
        a: () => ['a0', 'a1'],
        b: () =>
          (async function* () {
            yield 'b0';
          })(),
      },
      sampler,
      40,
    ))
      out.push(m);
    expect(out).toHaveLength(40);
    for (const m of out) expect(m.item.startsWith(m.source)).toBe(true);
    expect(out.map((m) => m.step)).toEqual([...Array(40).keys()]);
    const finite = new MixtureSampler([{ name: 'a', weight: 1 }]);
    const items = [];
    for await (const m of mixSources({ a: ['x', 'y'] }, finite)) items.push(m.item);
    expect(items).toEqual(['x', 'y']);
    await expect(mixSources({}, finite).next()).rejects.toThrow(/inputs has no source "a"/);
  });
});
