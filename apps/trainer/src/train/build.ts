/**
 * Building the model, precision (policy, master weights, loss scaler), optimizer and scheduler
 * a config describes. MoE layers replace the chosen MLPs before the optimizer is built, and the
 * optimizer is always built through precision's `createPrecision` (an all-f32 config adds
 * nothing to it).
 */
import { type MoeConfigInput, moeLayers, replaceMlpsWithMoe } from '@fathom/moe';
import { CausalLm } from '@fathom/nn-layers';
import { AdamW, type HyperParams, LrScheduler, type Optimizer, Sgd } from '@fathom/optim';
import { type Precision, type PrecisionConfig, createPrecision } from '@fathom/precision';
import type { Device, Tensor } from '@fathom/tensor-core';
import { causalLmConfigOf, scheduleOf } from '../config/resolve.js';
import type { MoeSection, PrecisionSection, TrainConfig } from '../config/schema.js';
import { type DistillParts, DistillTrainable, disposeDistillation } from './distill.js';

/** The trainable pieces of a run. */
export interface TrainingParts {
  model: CausalLm;
  /** Mixed precision; owns the optimizer. */
  precision: Precision;
  /** `precision.optimizer`, over f32 masters or the f32 parameters themselves. */
  optimizer: Optimizer<HyperParams>;
  scheduler: LrScheduler;
  /** Micro-batches per optimizer step. */
  accumulation: number;
  /** Whether the model has MoE layers. */
  moe: boolean;
  /** The teacher, layer pairs, projections and schedule of a distillation run. */
  distill?: DistillParts;
}

/** precision's `PrecisionConfig` for a validated precision section (absent: all f32). */
export function precisionConfigOf(section: PrecisionSection | undefined): PrecisionConfig {
  if (!section) return {};
  const out: PrecisionConfig = {
    compute: section.compute,
    overrides: section.overrides.map((o) => ({
      ...(o.modules !== undefined ? { modules: o.modules } : {}),
      ...(o.layers !== undefined ? { layers: o.layers } : {}),
      ...(o.compute !== undefined ? { compute: o.compute } : {}),
      ...(o.params !== undefined ? { params: o.params } : {}),
    })),
    masterWeights: section.masterWeights,
    rounding: section.rounding,
  };
  if (section.params !== undefined) out.params = section.params;
  if (section.f32Ops !== undefined) out.f32Ops = section.f32Ops;
  if (section.seed !== undefined) out.seed = section.seed;
  if (section.lossScaling !== undefined) out.lossScaling = section.lossScaling;
  return out;
}

/** moe's `MoeConfigInput` for a validated moe section (the layer list left out). */
export function moeConfigOf(section: MoeSection): MoeConfigInput {
  const { layers: _layers, topkGroups, initStd, ...rest } = section;
  return {
    ...rest,
    ...(topkGroups !== undefined ? { topkGroups } : {}),
    ...(initStd !== undefined ? { initStd } : {}),
  };
}

/** Parameter counts of a (possibly MoE) model. */
export interface ParameterCounts {
  /** Every distinct parameter (tied weights once), the routing bias included. */
  total: number;
  /** Those one token's forward uses: the total less the routed experts it is not sent to (E − k per MoE layer). */
  activatedPerToken: number;
}

/** Total and per-token activated parameter counts of `model`. */
export function parameterCounts(model: CausalLm): ParameterCounts {
  const total = model.numParameters();
  let idle = 0;
  for (const [, layer] of moeLayers(model)) {
    const c = layer.config;
    const perExpert = 3 * layer.hiddenSize * c.expertIntermediateSize;
    idle += (c.numExperts - c.topK) * perExpert;
  }
  return { total, activatedPerToken: total - idle };
}

/**
 * Builds the parts for a resolved config on `device`; the model starts in training mode.
 * With `distill` (from `loadDistillation`), the optimizer also trains its projections
 * (named `distill.…`) and the parts take ownership of it.
 */
export function buildTraining(
  config: TrainConfig,
  device: Device,
  distill?: DistillParts,
): TrainingParts {
  const model = new CausalLm(causalLmConfigOf(config), { device }).train();
  try {
    if (config.moe) replaceMlpsWithMoe(model, moeConfigOf(config.moe), config.moe.layers);
    const o = config.optimizer;
    const makeOptimizer = (named: [string, Tensor][]): Optimizer<HyperParams> =>
      o.name === 'adamw'
        ? new AdamW(named, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay })
        : new Sgd(named, {
            lr: o.lr,
            momentum: o.momentum,
            dampening: o.dampening,
            nesterov: o.nesterov,
            weightDecay: o.weightDecay,
          });
    const trainable = distill ? new DistillTrainable(model, distill.projections) : model;
    const precision = createPrecision(
      precisionConfigOf(config.precision),
      trainable,
      makeOptimizer,
    );
    const optimizer = precision.optimizer;
    const scheduler = new LrScheduler(optimizer, scheduleOf(config));
    return {
      model,
      precision,
      optimizer,
      scheduler,
      accumulation: config.data.accumulation,
      moe: config.moe !== undefined,
      ...(distill ? { distill } : {}),
    };
  } catch (error) {
    model.dispose();
    if (distill) disposeDistillation(distill);
    throw error;
  }
}

/** Disposes the model's parameters, the master weights, the optimizer's state and the distillation parts. */
export function disposeTraining(parts: TrainingParts): void {
  parts.precision.dispose();
  parts.model.dispose();
  if (parts.distill) disposeDistillation(parts.distill);
}
