/** Normalisation layers over the last dim, running tensor-core's fused kernels. */
import { type Tensor, layerNorm, rmsNorm } from '@fathom/tensor-core';
import { Module } from '../module.js';
import { type InitOptions, constantInit } from './init.js';

/** LayerNorm with a learnable scale and shift. */
export class LayerNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
    options: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    this.registerParameter('weight', constantInit([dim], 1, options));
    if (options.bias ?? true) this.registerParameter('bias', constantInit([dim], 0, options));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.param('weight'), this.maybeParam('bias'), { eps: this.eps });
  }
}

/** RMSNorm as in LLaMA: x · rsqrt(mean(x²) + eps) · weight. */
export class RmsNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    options: InitOptions = {},
  ) {
    super();
    this.registerParameter('weight', constantInit([dim], 1, options));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.param('weight'), { eps: this.eps });
  }
}
