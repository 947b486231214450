/**
 * Activation checkpointing: run a module's forward without keeping its
 * intermediate activations, and recompute them during backward. Gradients are
 * identical; peak memory drops to the module's inputs and outputs.
 */
import {
  type Generator,
  type Tensor,
  backward,
  enableGrad,
  keep,
  noGrad,
  record,
} from '@fathom/tensor-core';
import { Module } from '../module.js';

/** A module whose forward takes one tensor and returns one. */
export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}

/**
 * Wraps a module so its activations are recomputed in backward. Pass the generators
 * its dropout draws from: their state is restored for the recomputation so it draws
 * the same masks.
 */
export class Checkpointed<M extends TensorModule> extends Module {
  constructor(
    readonly inner: M,
    private readonly generators: Generator[] = [],
  ) {
    super();
    this.registerModule('inner', inner);
  }

  forward(x: Tensor): Tensor {
    const params = this.inner.parameters().filter((p) => p.requiresGrad);
    const states = this.generators.map((g) => g.state());
    const y = noGrad(() => this.inner.forward(x));
    if (!x.requiresGrad && params.length === 0) return y;
    // One tape node stands for the whole module: its backward re-runs forward with the
    // tape on, back-propagates through that, and hands x's gradient upstream. The
    // parameters' gradients accumulate into their .grad during the inner backward.
    const inputs: Tensor[] = [x, ...params];
    record('checkpoint', inputs, [y], [x], ([g], [sx]) => {
      this.generators.forEach((gen, i) => gen.setState(states[i]!));
      const xin = keep(sx!.detach());
      if (x.requiresGrad) xin.requireGrad();
      const out = enableGrad(() => this.inner.forward(xin));
      backward(out, g!);
      out.dispose();
      const gx = xin.grad ? keep(xin.grad.share()) : null;
      xin.dispose();
      return [gx, ...params.map(() => null)];
    });
    return y;
  }
}
