/**
 * `QuantLinear`: a Linear whose weight is held quantised ({@link QuantWeight});
 * it replaces a Linear in place (`model.setSubmodule`) and keeps its bias as a
 * frozen parameter under the same name.
 */
import { type Tensor, add } from '@fathom/tensor-core';
import { Module } from '@fathom/nn-layers';
import type { QuantWeight } from './quant-weight.js';
import { quantMatmul } from './quant-weight.js';

/** A Linear with a quantised, frozen weight (inputs still receive gradients). */
export class QuantLinear extends Module {
  constructor(
    readonly weight: QuantWeight,
    bias: Tensor | null = null,
  ) {
    super();
    if (bias) {
      if (bias.rank !== 1 || bias.shape[0] !== weight.rows)
        throw new RangeError(
          `QuantLinear: bias has shape [${bias.shape.join(',')}]; expected [${weight.rows}]`,
        );
      this.registerParameter('bias', bias, false);
    }
  }

  /** Input features. */
  get inFeatures(): number {
    return this.weight.cols;
  }

  /** Output features. */
  get outFeatures(): number {
    return this.weight.rows;
  }

  /** The bias, or null. */
  get bias(): Tensor | null {
    return this.maybeParam('bias');
  }

  /** x: [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    const y = quantMatmul(x, this.weight);
    const b = this.bias;
    if (!b) return y;
    const out = add(y, b);
    y.dispose();
    return out;
  }

  /** Frees the quantised weight along with the parameters. */
  protected override releaseBuffers(): void {
    this.weight.dispose();
  }
}
