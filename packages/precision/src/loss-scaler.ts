/**
 * `DynamicLossScaler`: the loss is multiplied by a scale before backward so
 * that small f16 gradients do not flush to zero; gradients are divided by it
 * before the update. When any gradient is inf or NaN the step is skipped and
 * the scale backs off; after `growthInterval` clean steps in a row it grows.
 *
 * Defaults, and the others' for comparison:
 *
 * | setting        | Fathom | PyTorch `GradScaler` | DeepSpeed fp16                       |
 * | -------------- | ------ | -------------------- | ------------------------------------ |
 * | initial scale  | 2^15   | 2^16                 | 2^16 (`initial_scale_power` 16); the class default is 2^32 |
 * | growth factor  | 2      | 2                    | 2                                    |
 * | backoff factor | 0.5    | 0.5                  | 0.5                                  |
 * | growth interval| 1000   | 2000                 | 1000 (`loss_scale_window`)           |
 * | hysteresis     | 2      | — (1)                | 2                                    |
 * | min scale      | 1      | —                    | 1 (`min_loss_scale`)                 |
 *
 * 2^15 is the largest power of two that f16 can hold (its largest finite value
 * is 65504 < 2^16), so a scaled gradient that passes through an f16 tensor
 * cannot overflow just because of the scale itself; with 2^16 (or 2^32) the
 * first steps of an f16 run are skipped until the scale has backed off, which
 * PyTorch and DeepSpeed accept as a few wasted steps at start-up.
 *
 * Hysteresis is DeepSpeed's: the scale backs off only after `hysteresis`
 * overflows (the counter is restored by a growth, or by every clean step with
 * `consecutiveHysteresis`); every overflowing step is skipped either way. With
 * `hysteresis: 1` the state machine is exactly PyTorch's `GradScaler.update`.
 */

/** Options of {@link DynamicLossScaler}. */
export interface LossScalerOptions {
  /** Scale of the first step (default 2^15). */
  initScale?: number;
  /** Factor applied after `growthInterval` clean steps in a row (default 2). */
  growthFactor?: number;
  /** Factor applied on a backed-off overflow (default 0.5). */
  backoffFactor?: number;
  /** Clean steps in a row before the scale grows (default 1000). */
  growthInterval?: number;
  /** Overflows tolerated before the scale backs off (default 2, DeepSpeed's; 1 is PyTorch's behaviour). */
  hysteresis?: number;
  /** Restore the hysteresis budget after every clean step, not only at growth (default false). */
  consecutiveHysteresis?: boolean;
  /** The scale never falls below this (default 1). */
  minScale?: number;
  /** The scale never grows above this (default 2^24). */
  maxScale?: number;
}

/** Every option filled in. */
export type ResolvedLossScalerOptions = Required<LossScalerOptions>;

/** Fathom's defaults (see the module comment for PyTorch's and DeepSpeed's). */
export const LOSS_SCALER_DEFAULTS: Readonly<ResolvedLossScalerOptions> = {
  initScale: 2 ** 15,
  growthFactor: 2,
  backoffFactor: 0.5,
  growthInterval: 1000,
  hysteresis: 2,
  consecutiveHysteresis: false,
  minScale: 1,
  maxScale: 2 ** 24,
};

/** PyTorch `torch.amp.GradScaler`'s defaults, in this class's terms. */
export const PYTORCH_GRAD_SCALER_DEFAULTS: Readonly<ResolvedLossScalerOptions> = {
  initScale: 2 ** 16,
  growthFactor: 2,
  backoffFactor: 0.5,
  growthInterval: 2000,
  hysteresis: 1,
  consecutiveHysteresis: false,
  minScale: 0,
  maxScale: Number.MAX_VALUE,
};

/** DeepSpeed's fp16 config defaults (`initial_scale_power` 16, `loss_scale_window` 1000, `hysteresis` 2). */
export const DEEPSPEED_DEFAULTS: Readonly<ResolvedLossScalerOptions> = {
  initScale: 2 ** 16,
  growthFactor: 2,
  backoffFactor: 0.5,
  growthInterval: 1000,
  hysteresis: 2,
  consecutiveHysteresis: false,
  minScale: 1,
  maxScale: Number.MAX_VALUE,
};

/** Format tag of {@link LossScalerState}. */
export const LOSS_SCALER_FORMAT = 'fathom.loss-scaler/1';

/** Everything needed to resume a scaler exactly (plain JSON). */
export interface LossScalerState {
  format: typeof LOSS_SCALER_FORMAT;
  options: ResolvedLossScalerOptions;
  scale: number;
  /** Clean steps since the last overflow or growth. */
  growthTracker: number;
  /** Overflows left before the next back-off. */
  hysteresisLeft: number;
  /** Updates so far. */
  steps: number;
  /** Steps skipped because of overflow. */
  skippedSteps: number;
}

/** What one {@link DynamicLossScaler.update} did. */
export interface LossScalerUpdate {
  /** The step's gradients overflowed, so its update must be skipped. */
  skipped: boolean;
  /** The scale the step used. */
  previousScale: number;
  /** The scale of the next step. */
  scale: number;
  /** `grew`, `backed-off`, or `kept`. */
  change: 'grew' | 'backed-off' | 'kept';
}

function checkNumber(what: string, v: unknown, min: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
    throw new RangeError(
      `DynamicLossScaler: ${what} is ${String(v)}; expected a finite ${integer ? 'integer' : 'number'} >= ${min}`,
    );
  return v;
}

/** Checks and fills options; errors name the option. */
export function resolveLossScalerOptions(
  options: LossScalerOptions = {},
): ResolvedLossScalerOptions {
  const o = { ...LOSS_SCALER_DEFAULTS, ...options };
  if (typeof o.initScale !== 'number' || !(o.initScale > 0) || !Number.isFinite(o.initScale))
    throw new RangeError(
      `DynamicLossScaler: options.initScale is ${String(o.initScale)}; expected a finite number > 0`,
    );
  checkNumber('options.growthFactor', o.growthFactor, 1);
  if (!(o.backoffFactor > 0 && o.backoffFactor < 1))
    throw new RangeError(
      `DynamicLossScaler: options.backoffFactor is ${String(o.backoffFactor)}; expected a number in (0, 1)`,
    );
  checkNumber('options.growthInterval', o.growthInterval, 1, true);
  checkNumber('options.hysteresis', o.hysteresis, 1, true);
  if (typeof o.consecutiveHysteresis !== 'boolean')
    throw new TypeError(
      `DynamicLossScaler: options.consecutiveHysteresis is ${String(o.consecutiveHysteresis)}; expected a boolean`,
    );
  if (typeof o.minScale !== 'number' || !(o.minScale >= 0))
    throw new RangeError(
      `DynamicLossScaler: options.minScale is ${String(o.minScale)}; expected a number >= 0`,
    );
  if (typeof o.maxScale !== 'number' || !(o.maxScale >= o.minScale))
    throw new RangeError(
      `DynamicLossScaler: options.maxScale is ${String(o.maxScale)}; expected a number >= minScale (${o.minScale})`,
    );
  if (o.initScale < o.minScale || o.initScale > o.maxScale)
    throw new RangeError(
      `DynamicLossScaler: options.initScale is ${o.initScale}; expected it within [minScale, maxScale] = [${o.minScale}, ${o.maxScale}]`,
    );
  return o;
}

/** See the module comment. The scaler is host state; the overflow check that feeds it runs on the device. */
export class DynamicLossScaler {
  private opts: ResolvedLossScalerOptions;
  private current: number;
  private tracker = 0;
  private hysteresisLeft: number;
  private stepCount = 0;
  private skipped = 0;

  constructor(options: LossScalerOptions = {}) {
    this.opts = resolveLossScalerOptions(options);
    this.current = this.opts.initScale;
    this.hysteresisLeft = this.opts.hysteresis;
  }

  /** The options in force (restored ones after {@link loadStateDict}). */
  get options(): Readonly<ResolvedLossScalerOptions> {
    return this.opts;
  }

  /** The scale the next backward should use. */
  get scale(): number {
    return this.current;
  }

  /** Steps skipped because of overflow. */
  get skippedSteps(): number {
    return this.skipped;
  }

  /** Updates so far (skipped ones included). */
  get steps(): number {
    return this.stepCount;
  }

  /** Clean steps since the last overflow or growth. */
  get growthTracker(): number {
    return this.tracker;
  }

  /** Overflows left before the next back-off. */
  get hysteresisRemaining(): number {
    return this.hysteresisLeft;
  }

  /** Advances the state machine by one step whose gradients did (`true`) or did not overflow. */
  update(overflow: boolean): LossScalerUpdate {
    if (typeof overflow !== 'boolean')
      throw new TypeError(
        `DynamicLossScaler.update: overflow is ${String(overflow)}; expected a boolean`,
      );
    const o = this.options;
    const previousScale = this.current;
    let change: LossScalerUpdate['change'] = 'kept';
    this.stepCount += 1;
    if (overflow) {
      this.skipped += 1;
      this.tracker = 0;
      if (this.hysteresisLeft <= 1) {
        const next = Math.max(this.current * o.backoffFactor, o.minScale);
        if (next !== this.current) change = 'backed-off';
        this.current = next;
      } else {
        this.hysteresisLeft -= 1;
      }
    } else {
      this.tracker += 1;
      if (o.consecutiveHysteresis) this.hysteresisLeft = o.hysteresis;
      if (this.tracker >= o.growthInterval) {
        this.tracker = 0;
        this.hysteresisLeft = o.hysteresis;
        const next = Math.min(this.current * o.growthFactor, o.maxScale);
        if (Number.isFinite(next) && next !== this.current) {
          this.current = next;
          change = 'grew';
        }
      }
    }
    return { skipped: overflow, previousScale, scale: this.current, change };
  }

  /** The state as JSON-safe data. */
  stateDict(): LossScalerState {
    return {
      format: LOSS_SCALER_FORMAT,
      options: { ...this.options },
      scale: this.current,
      growthTracker: this.tracker,
      hysteresisLeft: this.hysteresisLeft,
      steps: this.stepCount,
      skippedSteps: this.skipped,
    };
  }

  /** Restores a state from {@link stateDict}; everything is checked before anything changes. */
  loadStateDict(state: LossScalerState): void {
    const op = 'DynamicLossScaler.loadStateDict';
    if (typeof state !== 'object' || state === null)
      throw new TypeError(`${op}: got ${String(state)}; expected a LossScalerState object`);
    if (state.format !== LOSS_SCALER_FORMAT)
      throw new Error(`${op}: format is ${String(state.format)}; expected '${LOSS_SCALER_FORMAT}'`);
    const options = resolveLossScalerOptions(state.options);
    const count = (what: string, v: unknown, min = 0): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
        throw new RangeError(`${op}: ${what} is ${String(v)}; expected an integer >= ${min}`);
      return v;
    };
    if (
      typeof state.scale !== 'number' ||
      !(state.scale >= options.minScale && state.scale <= options.maxScale)
    )
      throw new RangeError(
        `${op}: scale is ${String(state.scale)}; expected a number within [${options.minScale}, ${options.maxScale}]`,
      );
    const tracker = count('growthTracker', state.growthTracker);
    const hysteresisLeft = count('hysteresisLeft', state.hysteresisLeft, 1);
    const steps = count('steps', state.steps);
    const skipped = count('skippedSteps', state.skippedSteps);
    this.opts = options;
    this.current = state.scale;
    this.tracker = tracker;
    this.hysteresisLeft = hysteresisLeft;
    this.stepCount = steps;
    this.skipped = skipped;
  }
}
