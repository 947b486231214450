/**
 * `MoeGate`: the router's parameters under DeepSeek's names — `weight`
 * `[E, hidden]` and, with auxiliary-loss-free balancing, the selection bias
 * `e_score_correction_bias` `[E]`, which the optimizer never updates.
 */
import { type Tensor } from '@fathom/tensor-core';
import { Module, constantInit, normalInit, type InitOptions } from '@fathom/nn-layers';

/** Router weights (and the balancing bias). Its forward is part of {@link MoeLayer}. */
export class MoeGate extends Module {
  constructor(
    readonly numExperts: number,
    readonly hiddenSize: number,
    withBias: boolean,
    initStd: number,
    options: InitOptions = {},
  ) {
    super();
    this.registerParameter('weight', normalInit([numExperts, hiddenSize], initStd, options));
    if (withBias)
      this.registerParameter(
        'e_score_correction_bias',
        constantInit([numExperts], 0, options),
        false,
      );
  }

  /** Router weight, [E, hidden]. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** Selection bias, [E], or null without auxiliary-loss-free balancing. */
  get bias(): Tensor | null {
    return this.maybeParam('e_score_correction_bias');
  }
}
