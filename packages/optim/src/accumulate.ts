/** Gradient accumulation over micro-batches, averaging by scaling each loss. */
import { type Tensor, mul } from '@fathom/tensor-core';
import type { HyperParams, Optimizer, StepOptions } from './optimizer.js';
import { checkNumber } from './validate.js';

/**
 * Accumulates the gradients of `microBatches` micro-batches into one averaged
 * step. It scales each micro-batch's **loss** by `1/N` before `backward()`
 * (autograd sums the gradients into `.grad`), so after N micro-batches `.grad`
 * holds the mean of their gradients, which equals the gradient of one batch N
 * times the size when each loss is a mean over its micro-batch. Gradients are
 * never rescaled afterwards, so clipping and norms see the averaged gradient.
 *
 * @example
 * ```ts
 * const acc = new GradientAccumulator(4);
 * for (const batch of microBatches) {
 *   const loss = lossOf(batch);
 *   if (acc.backward(loss)) {
 *     clipGradNorm(params, 1.0).dispose();
 *     await acc.step(optimizer);
 *   }
 *   loss.dispose();
 * }
 * ```
 */
export class GradientAccumulator {
  private seen = 0;

  /** @param microBatches - Micro-batches per optimizer step (N ≥ 1). */
  constructor(readonly microBatches: number) {
    checkNumber('GradientAccumulator', 'microBatches', microBatches, { min: 1, integer: true });
  }

  /** The factor each loss is multiplied by: `1/N`. */
  get lossScale(): number {
    return 1 / this.microBatches;
  }

  /** Micro-batches accumulated since the last step. */
  get count(): number {
    return this.seen;
  }

  /** True once N micro-batches are in: time to step. */
  get ready(): boolean {
    return this.seen === this.microBatches;
  }

  /**
   * Back-propagates `loss · weight` (a scalar), adding to every `.grad`. `weight`
   * defaults to `1/N`; for micro-batches of unequal size `bᵢ`, pass `bᵢ / Σb`.
   * @returns Whether N micro-batches are now in.
   */
  backward(loss: Tensor, weight = this.lossScale): boolean {
    const op = 'GradientAccumulator.backward';
    if (this.ready)
      throw new Error(
        `${op}: already holds ${this.microBatches} micro-batches; call step() before adding more`,
      );
    checkNumber(op, 'weight', weight, { above: 0 });
    const scaled = mul(loss, weight);
    try {
      scaled.backward();
    } finally {
      scaled.dispose();
    }
    this.seen += 1;
    return this.ready;
  }

  /** Steps the optimizer on the accumulated gradients, clears them, and starts over. */
  async step(optimizer: Optimizer<HyperParams>, options: StepOptions = {}): Promise<void> {
    if (!this.ready)
      throw new Error(
        `GradientAccumulator.step: holds ${this.seen} of ${this.microBatches} micro-batches; expected all of them`,
      );
    await optimizer.step(options);
    optimizer.zeroGrad();
    this.seen = 0;
  }

  /** Forgets the micro-batches counted so far (the caller clears the gradients). */
  reset(): void {
    this.seen = 0;
  }
}
