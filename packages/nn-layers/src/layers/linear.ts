/** `Linear`: y = x·Wᵀ + b, with W stored [out, in] as in PyTorch and Hugging Face. */
import { type Tensor, add, matmul } from '@fathom/tensor-core';
import { Module } from '../module.js';
import { type InitOptions, constantInit, normalInit } from './init.js';

/** Options of {@link Linear}. */
export interface LinearOptions extends InitOptions {
  /** Add a bias (default false, as in LLaMA's projections). */
  bias?: boolean;
  /** Standard deviation of the initial weights (default 0.02, LLaMA's initializer_range). */
  initStd?: number;
}

/** A fully connected layer. */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new RangeError(`Linear: ${name} must be a positive integer; got ${v}`);
    }
    this.registerParameter(
      'weight',
      normalInit([outFeatures, inFeatures], options.initStd ?? 0.02, options),
    );
    if (options.bias) this.registerParameter('bias', constantInit([outFeatures], 0, options));
  }

  /** The weight, [out, in]. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** The bias, [out], or null. */
  get bias(): Tensor | null {
    return this.maybeParam('bias');
  }

  /** Makes this layer use `weight` (shared, e.g. the embedding matrix for a tied LM head). */
  tieWeight(weight: Tensor): void {
    if (weight.shape[0] !== this.outFeatures || weight.shape[1] !== this.inFeatures) {
      throw new RangeError(
        `Linear.tieWeight: weight has shape [${weight.shape.join(',')}]; expected [${this.outFeatures},${this.inFeatures}]`,
      );
    }
    this.setParameter('weight', weight);
  }

  /** x: [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new RangeError(
        `Linear: input has shape [${x.shape.join(',')}]; expected last dim ${this.inFeatures}`,
      );
    }
    const y = matmul(x, this.weight, { transB: true });
    const b = this.bias;
    if (!b) return y;
    const out = add(y, b);
    y.dispose();
    return out;
  }
}
