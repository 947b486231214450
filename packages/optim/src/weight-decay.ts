/** A step hook that lowers weight decay while gradients are large. */
import { type Tensor } from '@fathom/tensor-core';
import { normsOf } from './norms.js';
import type { ParamGroup, StepContext, StepHook } from './optimizer.js';
import { checkNumber } from './validate.js';

/** Options of {@link GradNormWeightDecay}. */
export interface GradNormWeightDecayOptions {
  /** Weight decay while the global gradient norm is at most `threshold`. Default 0.01. */
  base?: number;
  /** Weight decay while it exceeds `threshold`. Default 0.001. */
  reduced?: number;
  /** Global gradient norm above which `reduced` applies. Default 5. */
  threshold?: number;
  /** Order of the global norm when the hook computes it. Default 2. */
  normType?: number;
  /**
   * Which groups the rule drives. Default: groups whose weight decay was non-zero
   * when the hook first ran (so a `no_decay` group stays at 0).
   */
  appliesTo?: (group: ParamGroup) => boolean;
}

/**
 * Sets `weightDecay` of the groups it drives before every step: `reduced` when the
 * global gradient norm exceeds `threshold`, else `base`.
 *
 * The decision needs the norm on the host, so each step costs one readback of a
 * single number: the norm passed as `optimizer.step({ gradNorm })` (e.g. the
 * pre-clipping norm `clipGradNorm` returns, so nothing is computed twice), or
 * else one the hook computes on the device over every gradient of the optimizer.
 */
export class GradNormWeightDecay implements StepHook {
  /** The global gradient norm seen at the last step (null before the first). */
  lastNorm: number | null = null;
  private readonly base: number;
  private readonly reduced: number;
  private readonly threshold: number;
  private readonly normType: number;
  private readonly appliesTo: ((group: ParamGroup) => boolean) | undefined;
  private driven: WeakSet<ParamGroup> | null = null;

  /** See {@link GradNormWeightDecayOptions} for the defaults. */
  constructor(options: GradNormWeightDecayOptions = {}) {
    const op = 'GradNormWeightDecay';
    this.base = checkNumber(op, 'base', options.base ?? 0.01, { min: 0 });
    this.reduced = checkNumber(op, 'reduced', options.reduced ?? 0.001, { min: 0 });
    this.threshold = checkNumber(op, 'threshold', options.threshold ?? 5, { min: 0 });
    this.normType = checkNumber(op, 'normType', options.normType ?? 2, {
      above: 0,
      infinite: true,
    });
    this.appliesTo = options.appliesTo;
  }

  /** The weight decay the rule picks for a global gradient norm. */
  decayFor(norm: number): number {
    return norm > this.threshold ? this.reduced : this.base;
  }

  /** Reads the global norm (one readback) and sets the driven groups' weight decay. */
  async beforeStep(context: StepContext): Promise<void> {
    this.driven ??= new WeakSet(
      context.groups.filter((g) => (this.appliesTo ? this.appliesTo(g) : g.weightDecay !== 0)),
    );
    const norm = await this.readNorm(context);
    if (norm === null) return;
    this.lastNorm = norm;
    const wd = this.decayFor(norm);
    for (const g of context.groups) if (this.driven.has(g)) g.weightDecay = wd;
  }

  private async readNorm(context: StepContext): Promise<number | null> {
    if (context.gradNorm) return context.gradNorm.item();
    const grads = context.groups.flatMap((g) =>
      g.params.map((p) => p.grad).filter((t): t is Tensor => t !== null),
    );
    if (grads.length === 0) return null;
    const { norms, total } = normsOf(grads, this.normType, 'GradNormWeightDecay');
    norms.dispose();
    try {
      return await total.item();
    } finally {
      total.dispose();
    }
  }
}
