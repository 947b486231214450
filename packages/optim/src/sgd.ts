/** SGD with momentum, dampening, Nesterov and weight decay, as `torch.optim.SGD` computes them. */
import { executeInPlace, type Tensor } from '@fathom/tensor-core';
import { SGD_STEP, type SgdStepAttrs } from './kernels/sgd-step.js';
import {
  Optimizer,
  type HyperParams,
  type OptimizerOptions,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import type { ParamsInput } from './param-groups.js';
import { checkBoolean, checkNumber } from './validate.js';

/** Hyper-parameters of {@link Sgd} (each group has its own). */
export interface SgdHyperParams extends HyperParams {
  /** Default 1e-3. */
  lr: number;
  /** Momentum factor; 0 (default) keeps no buffer. */
  momentum: number;
  /** Dampening of the gradient's contribution to the buffer. Default 0. */
  dampening: number;
  /** L2 penalty added to the gradient: `d = g + weightDecay·p`. Default 0. */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov: boolean;
  /** Maximise the objective instead. Default false. */
  maximize: boolean;
}

/** Options of {@link Sgd}: default hyper-parameters plus {@link OptimizerOptions}. */
export type SgdOptions = Partial<SgdHyperParams> & OptimizerOptions;

/** PyTorch's defaults. */
export const SGD_DEFAULTS: Readonly<SgdHyperParams> = Object.freeze({
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
});

/**
 * Stochastic gradient descent, exactly as `torch.optim.SGD`: `d = g + λ·p`;
 * with momentum μ, `b = d` at a parameter's first step and
 * `b = μ·b + (1 - dampening)·d` after (a buffer first needed later, when momentum
 * is switched on mid-run, starts at zero), then `d = d + μ·b` (Nesterov) or `d = b`;
 * finally `p ← p - lr·d`. State tensor (with momentum): `momentum_buffer`.
 *
 * @example
 * ```ts
 * const opt = new Sgd(params, { lr: 0.1, momentum: 0.9, nesterov: true });
 * ```
 */
export class Sgd extends Optimizer<SgdHyperParams> {
  /**
   * @param params - Tensors, `[name, Tensor]` pairs (biases and norms get no decay, see
   *   `DEFAULT_NO_DECAY`), or groups whose fields override `options`.
   * @param options - Default hyper-parameters (PyTorch's) and optimizer options.
   */
  constructor(params: ParamsInput<SgdHyperParams>, options: SgdOptions = {}) {
    const { noDecay, hooks, ...hyper } = options;
    super('Sgd', params, { ...SGD_DEFAULTS, ...hyper }, { noDecay, hooks });
  }

  protected validate(h: SgdHyperParams, where: string): void {
    checkNumber('Sgd', `${where} lr`, h.lr, { min: 0 });
    checkNumber('Sgd', `${where} momentum`, h.momentum, { min: 0 });
    checkNumber('Sgd', `${where} dampening`, h.dampening, {});
    checkNumber('Sgd', `${where} weightDecay`, h.weightDecay, { min: 0 });
    checkBoolean('Sgd', `${where} nesterov`, h.nesterov);
    checkBoolean('Sgd', `${where} maximize`, h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0))
      throw new RangeError(
        `Sgd: ${where} nesterov needs momentum > 0 and dampening 0; got momentum ${h.momentum}, dampening ${h.dampening}`,
      );
  }

  protected stateNames(group: ParamGroup<SgdHyperParams>): readonly string[] {
    return group.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected hyperKeys(): readonly (keyof SgdHyperParams)[] {
    return ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'];
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    group: ParamGroup<SgdHyperParams>,
  ): void {
    const buffer = state.tensors.get('momentum_buffer');
    const attrs: SgdStepAttrs = {
      lr: group.lr,
      weightDecay: group.weightDecay,
      momentum: group.momentum,
      dampening: group.dampening,
      nesterov: group.nesterov,
      maximize: group.maximize,
      firstStep: state.step === 1,
    };
    executeInPlace(SGD_STEP, [grad], group.momentum !== 0 ? [param, buffer!] : [param], attrs);
  }
}
