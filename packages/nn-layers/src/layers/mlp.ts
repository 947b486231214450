/** Feed-forward blocks: SwiGLU (LLaMA's gate/up/down) and the GELU MLP (GPT-2's). */
import { type Tensor, gelu, mul, silu } from '@fathom/tensor-core';
import { Module } from '../module.js';
import type { Projection } from './attention.js';
import type { InitOptions } from './init.js';
import { Linear } from './linear.js';

/** Options shared by the MLPs. */
export interface MlpOptions extends InitOptions {
  hiddenSize: number;
  intermediateSize: number;
  bias?: boolean;
  initStd?: number;
  /** Standard deviation of the output projection (scaled residual init). */
  outputInitStd?: number;
}

/** down(silu(gate(x)) ⊙ up(x)). */
export class SwiGlu extends Module {
  constructor(options: MlpOptions) {
    super();
    const lin = { ...options, bias: options.bias ?? false };
    this.registerModule('gate_proj', new Linear(options.hiddenSize, options.intermediateSize, lin));
    this.registerModule('up_proj', new Linear(options.hiddenSize, options.intermediateSize, lin));
    this.registerModule(
      'down_proj',
      new Linear(options.intermediateSize, options.hiddenSize, {
        ...lin,
        initStd: options.outputInitStd ?? options.initStd ?? 0.02,
      }),
    );
  }

  forward(x: Tensor): Tensor {
    const g = this.child<Projection>('gate_proj').forward(x);
    const a = silu(g);
    const u = this.child<Projection>('up_proj').forward(x);
    const h = mul(a, u);
    const out = this.child<Projection>('down_proj').forward(h);
    for (const t of [g, a, u, h]) t.dispose();
    return out;
  }
}

/** fc2(gelu(fc1(x))), with biases by default as in GPT-2. */
export class GeluMlp extends Module {
  constructor(
    options: MlpOptions,
    readonly approximate: 'erf' | 'tanh' = 'tanh',
  ) {
    super();
    const lin = { ...options, bias: options.bias ?? true };
    this.registerModule('fc1', new Linear(options.hiddenSize, options.intermediateSize, lin));
    this.registerModule(
      'fc2',
      new Linear(options.intermediateSize, options.hiddenSize, {
        ...lin,
        initStd: options.outputInitStd ?? options.initStd ?? 0.02,
      }),
    );
  }

  forward(x: Tensor): Tensor {
    const h = this.child<Projection>('fc1').forward(x);
    const a = gelu(h, this.approximate);
    const out = this.child<Projection>('fc2').forward(a);
    h.dispose();
    a.dispose();
    return out;
  }
}
