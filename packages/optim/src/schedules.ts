/**
 * Learning-rate schedules as closed-form functions of the step, so a schedule
 * resumes from nothing but its step count. Each maps `(step, baseLr)` to the
 * lr for a group whose base (initial) lr is `baseLr`; `LrScheduler` applies one
 * to an optimizer's groups.
 */
import { checkNumber } from './validate.js';

/** A schedule's kind and parameters (stored with the scheduler's state to refuse a mismatched resume). */
export interface ScheduleDescription {
  /** `constant`, `linear`, `cosine`, `cosineWarmRestarts` or `linearWarmup`. */
  kind: string;
  [parameter: string]: number | string | ScheduleDescription;
}

/** A learning-rate schedule. */
export interface LrSchedule {
  /** The lr at `step` (0 before the first optimizer step) for a group whose base lr is `baseLr`. */
  lrAt(step: number, baseLr: number): number;
  /** The kind and parameters, as JSON. */
  describe(): ScheduleDescription;
}

function checkStep(op: string, step: number): void {
  checkNumber(op, 'step', step, { min: 0, integer: true });
}

/** The base lr at every step. */
export function constantLr(): LrSchedule {
  return {
    lrAt(step, baseLr) {
      checkStep('constantLr', step);
      return baseLr;
    },
    describe: () => ({ kind: 'constant' }),
  };
}

/** Options of {@link linearDecay}. */
export interface LinearDecayOptions {
  /** Steps over which the factor moves from `startFactor` to `endFactor`. */
  totalSteps: number;
  /** Default 1. */
  startFactor?: number;
  /** Default 0. */
  endFactor?: number;
}

/**
 * Linear interpolation of the factor, held at `endFactor` afterwards (PyTorch's
 * `LinearLR`): `lr = base · (start + (end - start) · min(step, total) / total)`.
 */
export function linearDecay(options: LinearDecayOptions): LrSchedule {
  const op = 'linearDecay';
  const total = checkNumber(op, 'totalSteps', options.totalSteps, { above: 0, integer: true });
  const start = checkNumber(op, 'startFactor', options.startFactor ?? 1, { min: 0 });
  const end = checkNumber(op, 'endFactor', options.endFactor ?? 0, { min: 0 });
  return {
    lrAt(step, baseLr) {
      checkStep(op, step);
      return baseLr * (start + ((end - start) * Math.min(step, total)) / total);
    },
    describe: () => ({ kind: 'linear', totalSteps: total, startFactor: start, endFactor: end }),
  };
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** Steps from the base lr down to the floor. */
  totalSteps: number;
  /** The floor as a fraction of the base lr. Default 0. */
  floorRatio?: number;
}

/**
 * Half a cosine from the base lr down to `floorRatio · base` over `totalSteps`, then the floor:
 * `lr = base · (r + (1 - r) · (1 + cos(π · min(step, total) / total)) / 2)`
 * (Hugging Face's cosine-with-min-lr form, held at the floor past the end).
 */
export function cosineDecay(options: CosineDecayOptions): LrSchedule {
  const op = 'cosineDecay';
  const total = checkNumber(op, 'totalSteps', options.totalSteps, { above: 0, integer: true });
  const floor = checkNumber(op, 'floorRatio', options.floorRatio ?? 0, { min: 0 });
  return {
    lrAt(step, baseLr) {
      checkStep(op, step);
      const progress = Math.min(step, total) / total;
      return baseLr * (floor + ((1 - floor) * (1 + Math.cos(Math.PI * progress))) / 2);
    },
    describe: () => ({ kind: 'cosine', totalSteps: total, floorRatio: floor }),
  };
}

/** Options of {@link cosineWarmRestarts}. */
export interface CosineWarmRestartsOptions {
  /** Length of the first period (PyTorch's `T_0`). */
  period: number;
  /** Factor each period grows by after a restart (`T_mult`, an integer ≥ 1). Default 1. */
  periodMultiplier?: number;
  /** The lowest lr, absolute (`eta_min`). Default 0. */
  minLr?: number;
}

/**
 * SGDR cosine annealing with warm restarts, with PyTorch's
 * `CosineAnnealingWarmRestarts` semantics: within period `i` of length
 * `Tᵢ = T₀·T_multⁱ`, at `T_cur` steps into it,
 * `lr = η_min + (base - η_min) · (1 + cos(π · T_cur / Tᵢ)) / 2`.
 */
export function cosineWarmRestarts(options: CosineWarmRestartsOptions): LrSchedule {
  const op = 'cosineWarmRestarts';
  const t0 = checkNumber(op, 'period', options.period, { above: 0, integer: true });
  const mult = checkNumber(op, 'periodMultiplier', options.periodMultiplier ?? 1, {
    min: 1,
    integer: true,
  });
  const minLr = checkNumber(op, 'minLr', options.minLr ?? 0, { min: 0 });
  return {
    lrAt(step, baseLr) {
      checkStep(op, step);
      let period = t0;
      let cur = step;
      if (mult === 1) cur = step % t0;
      else
        while (cur >= period) {
          cur -= period;
          period *= mult;
        }
      return minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * cur) / period))) / 2;
    },
    describe: () => ({ kind: 'cosineWarmRestarts', period: t0, periodMultiplier: mult, minLr }),
  };
}

/** Options of {@link linearWarmup}. */
export interface WarmupOptions {
  /** Steps of warm-up; the wrapped schedule starts (at its step 0) after them. */
  warmupSteps: number;
  /** Factor at step 0. Default 0 (Hugging Face's warm-up). */
  startFactor?: number;
}

/**
 * Linear warm-up in front of another schedule: for `step < W`,
 * `lr = base · (s + (1 - s) · step / W)`; afterwards `inner.lrAt(step - W, base)`.
 */
export function linearWarmup(inner: LrSchedule, options: WarmupOptions): LrSchedule {
  const op = 'linearWarmup';
  const warm = checkNumber(op, 'warmupSteps', options.warmupSteps, { min: 0, integer: true });
  const start = checkNumber(op, 'startFactor', options.startFactor ?? 0, { min: 0 });
  return {
    lrAt(step, baseLr) {
      checkStep(op, step);
      if (step < warm) return baseLr * (start + ((1 - start) * step) / warm);
      return inner.lrAt(step - warm, baseLr);
    },
    describe: () => ({
      kind: 'linearWarmup',
      warmupSteps: warm,
      startFactor: start,
      inner: inner.describe(),
    }),
  };
}

/** Options of {@link warmupCosine}. */
export interface WarmupCosineOptions {
  /** Steps of linear warm-up from 0. */
  warmupSteps: number;
  /** Steps including warm-up; the lr reaches the floor here. */
  totalSteps: number;
  /** The floor as a fraction of the base lr. Default 0. */
  floorRatio?: number;
}

/**
 * The usual LLM schedule: linear warm-up from 0 over `warmupSteps`, then cosine
 * decay to `floorRatio · base` at `totalSteps`, then the floor (Hugging Face's
 * `get_cosine_with_min_lr_schedule_with_warmup` with `min_lr_rate = floorRatio`).
 */
export function warmupCosine(options: WarmupCosineOptions): LrSchedule {
  const op = 'warmupCosine';
  const warm = checkNumber(op, 'warmupSteps', options.warmupSteps, { min: 0, integer: true });
  const total = checkNumber(op, 'totalSteps', options.totalSteps, { above: warm, integer: true });
  return linearWarmup(
    cosineDecay(
      options.floorRatio === undefined
        ? { totalSteps: total - warm }
        : { totalSteps: total - warm, floorRatio: options.floorRatio },
    ),
    { warmupSteps: warm },
  );
}
