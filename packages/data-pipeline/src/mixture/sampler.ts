import { deriveSeed } from '../random/seed.js';
import { mix32 } from '../hash/mix32.js';
import { checkSchedule, scheduleBreakpoints, scheduleValue } from './schedule.js';
import type { StepSchedule } from './schedule.js';

/**
 * One data source of a mixture. Give it either a `share` (its fraction of all samples, which
 * may follow a schedule) or a `weight` (its relative part of whatever the shares leave).
 */
export interface MixtureSource {
  /** Source name, unique in the mixture. */
  name: string;
  /** Fraction of samples at each step, in [0, 1]. */
  share?: StepSchedule;
  /** Relative weight among the sources without a share (> 0). */
  weight?: number;
}

/** A {@link MixtureSampler}'s position, as plain JSON. */
export interface MixtureState {
  /** State format version. */
  version: 1;
  /** The sampler's seed. */
  seed: number;
  /** Samples drawn so far (the next draw is for this step). */
  step: number;
  /** Source names in order, to detect resuming a different mixture. */
  sources: string[];
  /** Samples drawn from each source so far. */
  counts: Record<string, number>;
}

/** One draw of a {@link MixtureSampler}. */
export interface MixtureDraw {
  /** Name of the chosen source. */
  source: string;
  /** Its index in the mixture. */
  index: number;
  /** The step this draw was for. */
  step: number;
}

/** Options of {@link MixtureSampler}. */
export interface MixtureSamplerOptions {
  /** Seed (default 0). */
  seed?: number;
  /** Continue from a saved {@link MixtureState}. */
  resumeFrom?: MixtureState;
}

/**
 * Chooses, step by step, which source the next sample comes from, with probabilities that may
 * follow schedules (for example a code share growing linearly from 5 % to 30 % over 10 000
 * steps while the other sources split the rest by weight).
 *
 * Draw `t` depends only on the seed and `t` (a counter-based generator), so a run resumed from
 * a saved step draws exactly what the uninterrupted run would have.
 */
export class MixtureSampler {
  private readonly sources: readonly MixtureSource[];
  private readonly seed: number;
  private currentStep = 0;
  private readonly counts: number[];

  /**
   * @param sources - the sources, each with a share or a weight.
   * @param options - seed and resume state.
   */
  constructor(sources: readonly MixtureSource[], options: MixtureSamplerOptions = {}) {
    if (!Array.isArray(sources) || sources.length === 0) {
      throw new RangeError('MixtureSampler: sources is empty; expected at least one source');
    }
    const names = new Set<string>();
    sources.forEach((s, i) => {
      if (typeof s?.name !== 'string' || names.has(s.name)) {
        throw new TypeError(
          `MixtureSampler: sources[${i}].name is ${JSON.stringify(s?.name)}; expected a unique string`,
        );
      }
      names.add(s.name);
      if ((s.share === undefined) === (s.weight === undefined)) {
        throw new TypeError(
          `MixtureSampler: source ${s.name} has ${s.share === undefined ? 'neither' : 'both'} share and weight; expected exactly one`,
        );
      }
      if (s.weight !== undefined && !(s.weight > 0 && Number.isFinite(s.weight))) {
        throw new RangeError(
          `MixtureSampler: source ${s.name} has weight ${s.weight}; expected a finite number > 0`,
        );
      }
      if (s.share !== undefined) checkSchedule(s.share, `MixtureSampler: source ${s.name} share`);
    });
    this.sources = sources;
    this.seed = options.seed ?? 0;
    deriveSeed(this.seed); // validates the seed
    this.counts = sources.map(() => 0);
    this.checkShares();
    if (options.resumeFrom) this.restore(options.resumeFrom);
  }

  /** The step of the next draw. */
  get step(): number {
    return this.currentStep;
  }

  /**
   * Probabilities of the sources at a step.
   *
   * @param step - a step >= 0.
   * @returns one probability per source, in source order, summing to 1.
   */
  probabilitiesAt(step: number): number[] {
    const probs = this.sources.map((s) =>
      s.share === undefined ? 0 : scheduleValue(s.share, step),
    );
    const shared = probs.reduce((a, b) => a + b, 0);
    const weightTotal = this.sources.reduce((a, s) => a + (s.weight ?? 0), 0);
    if (weightTotal > 0) {
      const rest = Math.max(0, 1 - shared);
      this.sources.forEach((s, i) => {
        if (s.weight !== undefined) probs[i] = (rest * s.weight) / weightTotal;
      });
      return probs;
    }
    // Only shares: they are normalised to sum to 1.
    return probs.map((p) => p / shared);
  }

  /**
   * Draws the source of the next sample and advances one step.
   *
   * @returns the chosen source.
   */
  next(): MixtureDraw {
    const step = this.currentStep;
    const probs = this.probabilitiesAt(step);
    const u = this.uniform(step);
    let index = probs.length - 1;
    let acc = 0;
    for (let i = 0; i < probs.length; i++) {
      acc += probs[i]!;
      if (u < acc) {
        index = i;
        break;
      }
    }
    // Rounding can leave u just above the last cumulative sum; fall back to the last source
    // with a non-zero probability.
    while (probs[index] === 0 && index > 0) index--;
    this.counts[index]!++;
    this.currentStep++;
    return { source: this.sources[index]!.name, index, step };
  }

  /** @returns the position as plain JSON, for {@link MixtureSamplerOptions.resumeFrom}. */
  state(): MixtureState {
    return {
      version: 1,
      seed: this.seed,
      step: this.currentStep,
      sources: this.sources.map((s) => s.name),
      counts: Object.fromEntries(this.sources.map((s, i) => [s.name, this.counts[i]!])),
    };
  }

  private restore(state: MixtureState): void {
    if (state?.version !== 1) {
      throw new TypeError(
        `MixtureSampler: resume state has version ${String(state?.version)}; expected 1`,
      );
    }
    const names = this.sources.map((s) => s.name);
    if (JSON.stringify(state.sources) !== JSON.stringify(names)) {
      throw new Error(
        `MixtureSampler: resume state has sources ${JSON.stringify(state.sources)}; expected ${JSON.stringify(names)}`,
      );
    }
    if (state.seed !== this.seed) {
      throw new Error(
        `MixtureSampler: resume state has seed ${state.seed}; expected ${this.seed} as in the options`,
      );
    }
    if (!Number.isSafeInteger(state.step) || state.step < 0) {
      throw new RangeError(
        `MixtureSampler: resume state has step ${state.step}; expected a non-negative integer`,
      );
    }
    this.currentStep = state.step;
    names.forEach((n, i) => (this.counts[i] = state.counts?.[n] ?? 0));
  }

  private uniform(step: number): number {
    const a = deriveSeed(this.seed, step);
    const b = mix32(a ^ 0x5bd1e995);
    return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
  }

  private checkShares(): void {
    const steps = new Set<number>();
    for (const s of this.sources)
      if (s.share !== undefined) for (const b of scheduleBreakpoints(s.share)) steps.add(b);
    const hasWeights = this.sources.some((s) => s.weight !== undefined);
    for (const step of steps) {
      let total = 0;
      for (const s of this.sources) {
        if (s.share === undefined) continue;
        const v = scheduleValue(s.share, step);
        if (!(v >= 0 && v <= 1)) {
          throw new RangeError(
            `MixtureSampler: source ${s.name} has share ${v} at step ${step}; expected a value in [0, 1]`,
          );
        }
        total += v;
      }
      if (total > 1 + 1e-9) {
        throw new RangeError(
          `MixtureSampler: shares sum to ${total} at step ${step}; expected at most 1`,
        );
      }
      if (!hasWeights && !(total > 0)) {
        throw new RangeError(
          `MixtureSampler: shares sum to 0 at step ${step} and no source has a weight; expected a positive total`,
        );
      }
    }
  }
}
