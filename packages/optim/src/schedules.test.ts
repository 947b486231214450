import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDevices, type TestDevices } from '@fathom/tensor-core/testing';
import {
  AdamW,
  LrScheduler,
  constantLr,
  cosineDecay,
  cosineWarmRestarts,
  linearDecay,
  linearWarmup,
  warmupCosine,
} from './index.js';
import { param } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const close = (a: number, b: number): void => expect(a).toBeCloseTo(b, 12);
const cosineFactor = (progress: number): number => 0.5 * (1 + Math.cos(Math.PI * progress));

describe('schedules equal their closed forms', () => {
  it('constant', () => {
    const s = constantLr();
    for (const step of [0, 1, 1000]) expect(s.lrAt(step, 0.3)).toBe(0.3);
  });

  it('linear decay (PyTorch LinearLR)', () => {
    const s = linearDecay({ totalSteps: 10, startFactor: 1, endFactor: 0.1 });
    close(s.lrAt(0, 2), 2);
    close(s.lrAt(5, 2), 2 * 0.55);
    close(s.lrAt(10, 2), 0.2);
    close(s.lrAt(50, 2), 0.2);
  });

  it('linear warm-up then cosine decay to a floor', () => {
    const s = warmupCosine({ warmupSteps: 10, totalSteps: 110, floorRatio: 0.1 });
    const base = 6e-4;
    close(s.lrAt(0, base), 0);
    close(s.lrAt(1, base), base * 0.1);
    close(s.lrAt(5, base), base * 0.5);
    close(s.lrAt(10, base), base);
    close(s.lrAt(35, base), base * (0.1 + 0.9 * cosineFactor(0.25)));
    close(s.lrAt(60, base), base * 0.55);
    close(s.lrAt(110, base), base * 0.1);
    close(s.lrAt(500, base), base * 0.1);
  });

  it('cosine decay without floor reaches 0 at the end', () => {
    const s = cosineDecay({ totalSteps: 8 });
    close(s.lrAt(0, 1), 1);
    close(s.lrAt(2, 1), cosineFactor(0.25));
    close(s.lrAt(8, 1), 0);
  });

  it('cosine annealing with warm restarts, T_mult 1', () => {
    const s = cosineWarmRestarts({ period: 5, minLr: 0.01 });
    const at = (tcur: number): number => 0.01 + (0.1 - 0.01) * cosineFactor(tcur / 5);
    for (const [step, tcur] of [
      [0, 0],
      [3, 3],
      [5, 0],
      [9, 4],
      [12, 2],
    ] as const)
      close(s.lrAt(step, 0.1), at(tcur));
  });

  it('cosine annealing with warm restarts, T_mult 2 (periods 10, 20, 40, …)', () => {
    const s = cosineWarmRestarts({ period: 10, periodMultiplier: 2, minLr: 1e-4 });
    const at = (tcur: number, ti: number): number => 1e-4 + (1e-2 - 1e-4) * cosineFactor(tcur / ti);
    // [step, T_cur, T_i], worked by hand: restarts at steps 10, 30 and 70.
    for (const [step, tcur, ti] of [
      [0, 0, 10],
      [9, 9, 10],
      [10, 0, 20],
      [20, 10, 20],
      [29, 19, 20],
      [30, 0, 40],
      [50, 20, 40],
      [69, 39, 40],
      [70, 0, 80],
    ] as const)
      close(s.lrAt(step, 1e-2), at(tcur, ti));
  });

  it('warm-up wrapper with a start factor around any schedule', () => {
    const s = linearWarmup(linearDecay({ totalSteps: 4 }), { warmupSteps: 4, startFactor: 0.2 });
    close(s.lrAt(0, 1), 0.2);
    close(s.lrAt(2, 1), 0.6);
    close(s.lrAt(4, 1), 1);
    close(s.lrAt(6, 1), 0.5);
    close(s.lrAt(8, 1), 0);
  });

  it('rejects bad arguments with the argument named', () => {
    expect(() => cosineWarmRestarts({ period: 10, periodMultiplier: 1.5 })).toThrow(
      'cosineWarmRestarts: periodMultiplier is 1.5; expected an integer >= 1',
    );
    expect(() => warmupCosine({ warmupSteps: 10, totalSteps: 10 })).toThrow(
      'warmupCosine: totalSteps is 10; expected an integer > 10',
    );
    expect(() => constantLr().lrAt(-1, 1)).toThrow('constantLr: step is -1');
  });
});

describe('LrScheduler', () => {
  it("sets each group's lr from its own base lr, and resumes from a state dict", () => {
    const a = param(d.ref, [1], [1]);
    const b = param(d.ref, [1], [1]);
    const opt = new AdamW([{ params: [a] }, { params: [b], lr: 0.1 }], { lr: 0.01 });
    const schedule = warmupCosine({ warmupSteps: 2, totalSteps: 10, floorRatio: 0.1 });
    const sched = new LrScheduler(opt, schedule);
    expect(sched.currentLrs()).toEqual([0, 0]);
    for (let i = 0; i < 5; i++) sched.step();
    expect(sched.currentLrs()).toEqual([schedule.lrAt(5, 0.01), schedule.lrAt(5, 0.1)]);
    const saved = JSON.parse(JSON.stringify(sched.stateDict()));

    const opt2 = new AdamW([{ params: [a] }, { params: [b], lr: 0.1 }], { lr: 0.01 });
    const resumed = new LrScheduler(
      opt2,
      warmupCosine({ warmupSteps: 2, totalSteps: 10, floorRatio: 0.1 }),
    );
    resumed.loadStateDict(saved);
    expect(resumed.lastStep).toBe(5);
    for (let i = 0; i < 3; i++) {
      sched.step();
      resumed.step();
      expect(resumed.currentLrs()).toEqual(sched.currentLrs());
    }
    const other = new LrScheduler(opt2, cosineDecay({ totalSteps: 10 }));
    expect(() => other.loadStateDict(saved)).toThrow(
      'LrScheduler.loadStateDict: the state is of schedule {"kind":"linearWarmup"',
    );
    a.dispose();
    b.dispose();
  });
});
