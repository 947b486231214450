/** AdamW with PyTorch's `torch.optim.AdamW` semantics, one fused kernel per parameter. */
import { executeInPlace, type Tensor } from '@fathom/tensor-core';
import { ADAMW_STEP, type AdamWStepAttrs } from './kernels/adamw-step.js';
import {
  Optimizer,
  type HyperParams,
  type OptimizerOptions,
  type ParamGroup,
  type ParamState,
} from './optimizer.js';
import type { ParamsInput } from './param-groups.js';
import { checkBoolean, checkNumber } from './validate.js';

/** Hyper-parameters of {@link AdamW} (each group has its own). */
export interface AdamWHyperParams extends HyperParams {
  /** Default 1e-3. */
  lr: number;
  /** Decay rates of the first and second moment estimates. Default [0.9, 0.999]. */
  betas: readonly [number, number];
  /** Added to the bias-corrected `sqrt(v̂)`. Default 1e-8. */
  eps: number;
  /** Decoupled weight decay: `param *= 1 - lr·weightDecay`. Default 1e-2. */
  weightDecay: number;
  /** Divide by the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad: boolean;
  /** Maximise the objective instead. Default false. */
  maximize: boolean;
}

/** Options of {@link AdamW}: default hyper-parameters plus {@link OptimizerOptions}. */
export type AdamWOptions = Partial<AdamWHyperParams> & OptimizerOptions;

/** PyTorch's defaults. */
export const ADAMW_DEFAULTS: Readonly<AdamWHyperParams> = Object.freeze({
  lr: 1e-3,
  betas: Object.freeze([0.9, 0.999] as const),
  eps: 1e-8,
  weightDecay: 1e-2,
  amsgrad: false,
  maximize: false,
});

const STATE = ['exp_avg', 'exp_avg_sq'] as const;
const AMSGRAD_STATE = [...STATE, 'max_exp_avg_sq'] as const;

/**
 * AdamW (Loshchilov & Hutter), exactly as `torch.optim.AdamW` computes it:
 * per parameter, with `t` its step count,
 * `p ← p·(1 - lr·λ)`, `m ← β1·m + (1-β1)·g`, `v ← β2·v + (1-β2)·g²`,
 * `p ← p - (lr / (1-β1ᵗ)) · m / (sqrt(v) / sqrt(1-β2ᵗ) + eps)`
 * (with amsgrad, `v` in the denominator is its running maximum). State
 * tensors: `exp_avg`, `exp_avg_sq` and, with amsgrad, `max_exp_avg_sq`.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 0.1 });
 * loss.backward();
 * await opt.step();
 * opt.zeroGrad();
 * ```
 */
export class AdamW extends Optimizer<AdamWHyperParams> {
  /**
   * @param params - Tensors, `[name, Tensor]` pairs (biases and norms get no decay, see
   *   `DEFAULT_NO_DECAY`), or groups whose fields override `options`.
   * @param options - Default hyper-parameters (PyTorch's) and optimizer options.
   */
  constructor(params: ParamsInput<AdamWHyperParams>, options: AdamWOptions = {}) {
    const { noDecay, hooks, ...hyper } = options;
    super('AdamW', params, { ...ADAMW_DEFAULTS, ...hyper }, { noDecay, hooks });
  }

  protected validate(h: AdamWHyperParams, where: string): void {
    checkNumber('AdamW', `${where} lr`, h.lr, { min: 0 });
    checkNumber('AdamW', `${where} eps`, h.eps, { min: 0 });
    checkNumber('AdamW', `${where} weightDecay`, h.weightDecay, { min: 0 });
    if (!Array.isArray(h.betas) || h.betas.length !== 2)
      throw new RangeError(
        `AdamW: ${where} betas is ${JSON.stringify(h.betas)}; expected [beta1, beta2]`,
      );
    checkNumber('AdamW', `${where} betas[0]`, h.betas[0], { min: 0, below: 1 });
    checkNumber('AdamW', `${where} betas[1]`, h.betas[1], { min: 0, below: 1 });
    checkBoolean('AdamW', `${where} amsgrad`, h.amsgrad);
    checkBoolean('AdamW', `${where} maximize`, h.maximize);
  }

  protected stateNames(group: ParamGroup<AdamWHyperParams>): readonly string[] {
    return group.amsgrad ? AMSGRAD_STATE : STATE;
  }

  protected hyperKeys(): readonly (keyof AdamWHyperParams)[] {
    return ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'];
  }

  protected update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    group: ParamGroup<AdamWHyperParams>,
  ): void {
    const [beta1, beta2] = group.betas;
    const t = state.step;
    const attrs: AdamWStepAttrs = {
      decay: 1 - group.lr * group.weightDecay,
      lerpWeight: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      stepSize: group.lr / (1 - beta1 ** t),
      bc2Sqrt: Math.sqrt(1 - beta2 ** t),
      eps: group.eps,
      maximize: group.maximize,
      amsgrad: group.amsgrad,
    };
    const s = state.tensors;
    const targets = [param, s.get('exp_avg')!, s.get('exp_avg_sq')!];
    if (group.amsgrad) targets.push(s.get('max_exp_avg_sq')!);
    executeInPlace(ADAMW_STEP, [grad], targets, attrs);
  }
}
