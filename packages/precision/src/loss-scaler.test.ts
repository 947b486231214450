import { describe, expect, it } from 'vitest';
import { rng } from '@fathom/tensor-core/testing';
import {
  DEEPSPEED_DEFAULTS,
  DynamicLossScaler,
  LOSS_SCALER_DEFAULTS,
  PYTORCH_GRAD_SCALER_DEFAULTS,
} from './loss-scaler.js';

/** PyTorch's `_amp_update_scale_` (aten/src/ATen/native/cuda/AmpKernels.cu), transcribed. */
function pytorchScales(
  flags: boolean[],
  init: number,
  growth: number,
  backoff: number,
  interval: number,
): number[] {
  let scale = init;
  let tracker = 0;
  return flags.map((foundInf) => {
    if (foundInf) {
      scale *= backoff;
      tracker = 0;
    } else {
      const successful = tracker + 1;
      if (successful === interval) {
        const next = scale * growth;
        if (Number.isFinite(next)) scale = next;
        tracker = 0;
      } else tracker = successful;
    }
    return scale;
  });
}

/** DeepSpeed's `DynamicLossScaler.update_scale` (runtime/fp16/loss_scaler.py), transcribed. */
function deepspeedScales(
  flags: boolean[],
  o: {
    init: number;
    factor: number;
    window: number;
    minScale: number;
    delayedShift: number;
    consecutive: boolean;
  },
): number[] {
  let curScale = o.init;
  let curIter = 0;
  let lastOverflowIter = -1;
  let curHysteresis = o.delayedShift;
  return flags.map((overflow) => {
    if (overflow) {
      if (o.delayedShift === 1 || curHysteresis === 1)
        curScale = Math.max(curScale / o.factor, o.minScale);
      else curHysteresis -= 1;
      lastOverflowIter = curIter;
    } else {
      if (o.consecutive) curHysteresis = o.delayedShift;
      if ((curIter - lastOverflowIter) % o.window === 0) {
        if (!o.consecutive) curHysteresis = o.delayedShift;
        curScale *= o.factor;
      }
    }
    curIter += 1;
    return curScale;
  });
}

function script(seed: number, n: number, p: number): boolean[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() < p);
}

describe('DynamicLossScaler', () => {
  it('a scripted sequence gives the hand-computed scales and skips (hysteresis 1)', () => {
    const s = new DynamicLossScaler({ initScale: 8, growthInterval: 3, hysteresis: 1 });
    const flags = [false, false, false, true, false, true, true, false, false, false];
    const got = flags.map((f) => s.update(f));
    expect(got.map((u) => u.scale)).toEqual([8, 8, 16, 8, 8, 4, 2, 2, 2, 4]);
    expect(got.map((u) => u.skipped)).toEqual(flags);
    expect(got.map((u) => u.change)).toEqual([
      'kept',
      'kept',
      'grew',
      'backed-off',
      'kept',
      'backed-off',
      'backed-off',
      'kept',
      'kept',
      'grew',
    ]);
    expect(s.skippedSteps).toBe(3);
    expect(s.steps).toBe(10);
  });

  it('hysteresis 2: the first overflow skips without backing off, the second backs off', () => {
    const s = new DynamicLossScaler({ initScale: 64, growthInterval: 4, hysteresis: 2 });
    const flags = [true, true, true, false, false, false, false, true, true];
    expect(flags.map((f) => s.update(f).scale)).toEqual([64, 32, 16, 16, 16, 16, 32, 32, 16]);
    expect(s.skippedSteps).toBe(5);
  });

  it('matches PyTorch GradScaler on random overflow scripts (hysteresis 1)', () => {
    for (const seed of [1, 2, 3]) {
      const flags = script(seed, 400, 0.08);
      const s = new DynamicLossScaler({
        initScale: 2 ** 16,
        growthInterval: 7,
        hysteresis: 1,
        minScale: 0,
        maxScale: Number.MAX_VALUE,
      });
      expect(flags.map((f) => s.update(f).scale)).toEqual(pytorchScales(flags, 2 ** 16, 2, 0.5, 7));
      expect(s.skippedSteps).toBe(flags.filter(Boolean).length);
    }
  });

  it.each([
    [2, false],
    [3, false],
    [2, true],
  ])(
    'matches DeepSpeed on random overflow scripts (hysteresis %i, consecutive %s)',
    (hysteresis, consecutive) => {
      const flags = script(hysteresis * 10 + Number(consecutive), 500, 0.15);
      const s = new DynamicLossScaler({
        initScale: 2 ** 20,
        growthInterval: 5,
        hysteresis,
        consecutiveHysteresis: consecutive,
        minScale: 1,
        maxScale: Number.MAX_VALUE,
      });
      const want = deepspeedScales(flags, {
        init: 2 ** 20,
        factor: 2,
        window: 5,
        minScale: 1,
        delayedShift: hysteresis,
        consecutive,
      });
      expect(flags.map((f) => s.update(f).scale)).toEqual(want);
    },
  );

  it('clamps to minScale and maxScale', () => {
    const s = new DynamicLossScaler({
      initScale: 4,
      minScale: 2,
      maxScale: 8,
      hysteresis: 1,
      growthInterval: 1,
    });
    expect([true, true, false, false, false].map((f) => s.update(f).scale)).toEqual([
      2, 2, 4, 8, 8,
    ]);
  });

  it('resumes exactly from a JSON round trip of its state dict', () => {
    const flags = script(9, 300, 0.1);
    const a = new DynamicLossScaler({ growthInterval: 6 });
    flags.slice(0, 150).forEach((f) => a.update(f));
    const b = new DynamicLossScaler();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.stateDict()).toEqual(a.stateDict());
    const ra = flags.slice(150).map((f) => a.update(f));
    const rb = flags.slice(150).map((f) => b.update(f));
    expect(rb).toEqual(ra);
    expect(b.skippedSteps).toBe(a.skippedSteps);
  });

  it('documents the defaults next to PyTorch and DeepSpeed', () => {
    expect(LOSS_SCALER_DEFAULTS.initScale).toBe(2 ** 15);
    expect(LOSS_SCALER_DEFAULTS.growthInterval).toBe(1000);
    expect(PYTORCH_GRAD_SCALER_DEFAULTS.initScale).toBe(2 ** 16);
    expect(PYTORCH_GRAD_SCALER_DEFAULTS.growthInterval).toBe(2000);
    expect(DEEPSPEED_DEFAULTS.initScale).toBe(2 ** 16);
    expect(DEEPSPEED_DEFAULTS.hysteresis).toBe(2);
    // 2^15 is the largest power of two f16 holds (max finite 65504).
    expect(2 ** 15).toBeLessThan(65504);
    expect(2 ** 16).toBeGreaterThan(65504);
  });

  it('rejects bad options and states, naming the field', () => {
    expect(() => new DynamicLossScaler({ backoffFactor: 1 })).toThrow(
      /options.backoffFactor is 1; expected a number in \(0, 1\)/,
    );
    expect(() => new DynamicLossScaler({ growthInterval: 0 })).toThrow(
      /options.growthInterval is 0/,
    );
    expect(() => new DynamicLossScaler({ hysteresis: 1.5 })).toThrow(/options.hysteresis is 1.5/);
    expect(() => new DynamicLossScaler({ initScale: -1 })).toThrow(/options.initScale is -1/);
    expect(() => new DynamicLossScaler({ initScale: 1, minScale: 2 })).toThrow(
      /initScale is 1; expected it within \[minScale/,
    );
    const s = new DynamicLossScaler();
    expect(() => s.update('yes' as never)).toThrow(/overflow is yes; expected a boolean/);
    const bad = { ...s.stateDict(), growthTracker: -1 };
    expect(() => s.loadStateDict(bad)).toThrow(/growthTracker is -1/);
    expect(() => s.loadStateDict({ ...s.stateDict(), format: 'x' as never })).toThrow(
      /format is x/,
    );
  });
});
