/**
 * `Precision`: a policy applied to a model, master weights where parameters
 * are 16-bit, a dynamic loss scaler where f16 is involved, and the optimizer
 * over the tensors it should update, driven by one `backward` per micro-batch
 * and one `step` per optimizer step (with one readback, the overflow count).
 */
import type { Module } from '@fathom/nn-layers';
import type { HyperParams, Optimizer, StepOptions } from '@fathom/optim';
import { type Tensor, cast, mul, noGrad } from '@fathom/tensor-core';
import { type AppliedPolicy, applyPolicy } from './autocast.js';
import { ownParameters } from './convert-params.js';
import { DynamicLossScaler, type LossScalerOptions, type LossScalerState } from './loss-scaler.js';
import { MasterWeights, type MasterRounding, type MasterWeightsMeta } from './master-weights.js';
import { type F32Op, type FloatDType, type PolicyOverride, resolvePolicy } from './policy.js';
import { unscaleAndCount } from './unscale.js';

/**
 * Everything a training config says about precision (plain data: apps validate
 * it with their own schema). Fields other than the policy's: `masterWeights`,
 * `rounding`, `seed`, `lossScaling`.
 */
export interface PrecisionConfig {
  /** Compute dtype (default f32). */
  compute?: FloatDType;
  /** Parameter storage dtype (default: compute). */
  params?: FloatDType;
  /** Parts that stay f32 (default ['norm', 'loss']). */
  f32Ops?: readonly F32Op[];
  /** Per-module / per-layer overrides; a later match wins. */
  overrides?: readonly PolicyOverride[];
  /** Path of the numbered decoder layers (default 'model.layers'). */
  layerPrefix?: string;
  /** Keep f32 master copies of 16-bit trainable parameters (default true; required when any is 16-bit). */
  masterWeights?: boolean;
  /** Master → model rounding (default 'nearest'; 'stochastic' for bf16 parameters). */
  rounding?: MasterRounding;
  /** Seed of the stochastic-rounding stream (default 0). */
  seed?: number;
  /**
   * Dynamic loss scaling: true, false, or the scaler's options. Default: on when
   * any module computes or stores parameters in f16, off otherwise.
   */
  lossScaling?: boolean | LossScalerOptions;
}

/** What one {@link Precision.step} did. */
export interface PrecisionStepResult {
  /** True when a gradient overflowed and the update was skipped. */
  skipped: boolean;
  /** Number of gradient tensors with inf/NaN (0 without a loss scaler: nothing is checked). */
  overflowTensors: number;
  /** The loss scale this step's gradients were computed with (1 without a scaler). */
  lossScale: number;
  /** The scale of the next step. */
  nextLossScale: number;
}

/** Numbers a trainer logs each step. */
export interface PrecisionMetrics {
  /** Current loss scale (1 without a scaler). */
  lossScale: number;
  /** Steps skipped for overflow since training began (restored on resume). */
  skippedSteps: number;
  /** Clean steps since the last overflow or growth. */
  growthTracker: number;
  /** Whether the last step was skipped. */
  lastStepSkipped: boolean;
}

/** Format tag of {@link PrecisionStateMeta}. */
export const PRECISION_STATE_FORMAT = 'fathom.precision/1';

/** JSON part of a precision state dict. */
export interface PrecisionStateMeta {
  format: typeof PRECISION_STATE_FORMAT;
  scaler: LossScalerState | null;
  masters: MasterWeightsMeta | null;
}

/** A precision state dict: f32 master copies (keys are parameter names) and JSON. */
export interface PrecisionState {
  tensors: Record<string, Tensor>;
  meta: PrecisionStateMeta;
}

/** Builds the optimizer over the tensors it should update (f32 masters or f32 parameters), with their names. */
export type OptimizerFactory<O> = (params: [string, Tensor][]) => O;

/** See the module comment; create with {@link createPrecision}. */
export class Precision<O extends Optimizer<HyperParams> = Optimizer<HyperParams>> {
  private lastSkipped = false;

  /** @internal Use {@link createPrecision}. */
  constructor(
    readonly policy: AppliedPolicy,
    readonly masters: MasterWeights,
    readonly scaler: DynamicLossScaler | null,
    readonly optimizer: O,
  ) {}

  /** The loss scale the next backward uses (1 without a scaler). */
  get lossScale(): number {
    return this.scaler?.scale ?? 1;
  }

  /** The tensors the optimizer updates (masters or f32 parameters); their `.grad` is f32 and unscaled after `step` has checked it. */
  trainableTensors(): Tensor[] {
    return this.masters.entries.map((e) => e.master);
  }

  /**
   * Backward of one micro-batch: the loss (any float dtype) is taken to f32 and
   * multiplied by the loss scale, then 16-bit gradients are folded into the f32
   * master gradients. The caller still owns `loss`.
   */
  backward(loss: Tensor): void {
    if (loss.size !== 1)
      throw new RangeError(
        `Precision.backward: loss has shape [${loss.shape.join(',')}]; expected a scalar`,
      );
    const up = loss.dtype === 'f32' ? loss : cast(loss, 'f32');
    const scaled = this.scaler ? mul(up, this.scaler.scale) : up;
    try {
      scaled.backward();
    } finally {
      if (scaled !== up) scaled.dispose();
      if (up !== loss) up.dispose();
    }
    this.masters.foldGradients();
  }

  /**
   * Ends an optimizer step. With a scaler: unscales every gradient in place and
   * counts non-finite ones on the device (one readback); an overflow skips the
   * update. Otherwise `beforeUpdate` runs on the unscaled f32 gradients (clip
   * there; what it returns is passed to `optimizer.step`), the optimizer
   * updates, and masters are written back into the model. Gradients are
   * cleared either way.
   */
  async step(
    beforeUpdate?: (tensors: Tensor[]) => StepOptions | void | Promise<StepOptions | void>,
  ): Promise<PrecisionStepResult> {
    const tensors = this.trainableTensors();
    const lossScale = this.lossScale;
    let overflowTensors = 0;
    try {
      if (this.scaler) {
        const grads = tensors.map((t) => t.grad).filter((g): g is Tensor => g !== null);
        if (grads.length > 0) {
          const count = unscaleAndCount(grads, 1 / lossScale);
          try {
            overflowTensors = await count.item();
          } finally {
            count.dispose();
          }
        }
        this.scaler.update(overflowTensors > 0);
      }
      this.lastSkipped = overflowTensors > 0;
      if (!this.lastSkipped) {
        const options = (await beforeUpdate?.(tensors)) ?? {};
        await this.optimizer.step(options);
        this.masters.syncToModel();
      }
    } finally {
      this.masters.zeroGrad();
    }
    return {
      skipped: this.lastSkipped,
      overflowTensors,
      lossScale,
      nextLossScale: this.lossScale,
    };
  }

  /** Numbers to log. */
  metrics(): PrecisionMetrics {
    return {
      lossScale: this.lossScale,
      skippedSteps: this.scaler?.skippedSteps ?? 0,
      growthTracker: this.scaler?.growthTracker ?? 0,
      lastStepSkipped: this.lastSkipped,
    };
  }

  /** Master copies (owned by the caller) and the scaler's and rounding stream's state. */
  stateDict(): PrecisionState {
    const m = this.masters.stateDict();
    return {
      tensors: m.tensors,
      meta: {
        format: PRECISION_STATE_FORMAT,
        scaler: this.scaler?.stateDict() ?? null,
        masters: m.meta,
      },
    };
  }

  /** Restores {@link stateDict}'s output (the model and optimizer load their own state). */
  loadStateDict(state: PrecisionState): void {
    const op = 'Precision.loadStateDict';
    const meta = state?.meta;
    if (meta?.format !== PRECISION_STATE_FORMAT)
      throw new Error(
        `${op}: meta.format is ${String(meta?.format)}; expected '${PRECISION_STATE_FORMAT}'`,
      );
    if ((meta.scaler === null) !== (this.scaler === null))
      throw new Error(
        `${op}: the state ${meta.scaler ? 'has' : 'has no'} loss scaler; this configuration ${this.scaler ? 'has' : 'has none'}`,
      );
    if (!meta.masters) throw new Error(`${op}: meta.masters is missing`);
    this.masters.loadStateDict({ tensors: state.tensors, meta: meta.masters });
    if (this.scaler && meta.scaler) this.scaler.loadStateDict(meta.scaler);
  }

  /** Frees master copies and optimizer state, and restores the modules' forwards. */
  dispose(): void {
    this.masters.dispose();
    this.optimizer.dispose();
    this.policy.remove();
  }
}

function usesF16(policy: AppliedPolicy): boolean {
  for (const a of policy.resolved.modules.values())
    if (a.compute === 'f16' || a.params === 'f16') return true;
  return false;
}

/**
 * Applies `config`'s policy to `model`, creates master weights and (for f16) a
 * loss scaler, and builds the optimizer with `makeOptimizer` over the tensors
 * it must update (f32 masters for 16-bit parameters, the parameters
 * themselves otherwise), named as the model names them.
 */
export function createPrecision<O extends Optimizer<HyperParams>>(
  config: PrecisionConfig,
  model: Module,
  makeOptimizer: OptimizerFactory<O>,
): Precision<O> {
  if (typeof config !== 'object' || config === null)
    throw new TypeError(
      `createPrecision: config is ${String(config)}; expected a PrecisionConfig object`,
    );
  if (typeof makeOptimizer !== 'function')
    throw new TypeError(
      `createPrecision: makeOptimizer is ${typeof makeOptimizer}; expected a function`,
    );
  const { masterWeights, rounding, seed, lossScaling, ...policy } = config;
  if (masterWeights !== undefined && typeof masterWeights !== 'boolean')
    throw new TypeError(
      `createPrecision: config.masterWeights is ${String(masterWeights)}; expected a boolean`,
    );
  if (
    lossScaling !== undefined &&
    typeof lossScaling !== 'boolean' &&
    (typeof lossScaling !== 'object' || lossScaling === null)
  )
    throw new TypeError(
      `createPrecision: config.lossScaling is ${String(lossScaling)}; expected a boolean or loss scaler options`,
    );
  // Check what the policy will do to trainable parameters before changing anything.
  const resolved = resolvePolicy(policy, model);
  for (const [module, a] of resolved.modules) {
    for (const [name, p] of ownParameters(module)) {
      if (!p.requiresGrad || a.params === 'f32') continue;
      const where = `'${a.path ? `${a.path}.` : ''}${name}'`;
      if (masterWeights === false)
        throw new Error(
          `createPrecision: config.masterWeights is false, but ${where} is stored as ${a.params}; optimizers update f32 tensors only, so 16-bit parameters need master weights`,
        );
      if (rounding === 'stochastic' && a.params !== 'bf16')
        throw new TypeError(
          `createPrecision: config.rounding 'stochastic' is for bf16 parameters; ${where} is stored as ${a.params}`,
        );
    }
  }
  const applied = applyPolicy(model, policy);
  try {
    const named = model.namedParameters().filter(([, p]) => p.requiresGrad);
    const masters = new MasterWeights(named, {
      ...(rounding !== undefined ? { rounding } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
    const scalerOn = lossScaling === undefined ? usesF16(applied) : lossScaling !== false;
    const scaler = scalerOn
      ? new DynamicLossScaler(typeof lossScaling === 'object' ? lossScaling : {})
      : null;
    let optimizer: O;
    try {
      optimizer = noGrad(() => makeOptimizer(masters.named()));
    } catch (error) {
      masters.dispose();
      throw error;
    }
    return new Precision(applied, masters, scaler, optimizer);
  } catch (error) {
    applied.remove();
    throw error;
  }
}
