/** `Dropout`: zeroes each value with probability p during training and scales the rest by 1/(1-p). */
import type { Generator } from '@fathom/tensor-core';
import { type Tensor, dropout } from '@fathom/tensor-core';
import { Module } from '../module.js';

/** Inverted dropout; the identity in eval mode. */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1]; got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, {
      training: this.training,
      ...(this.generator ? { generator: this.generator } : {}),
    });
  }
}
