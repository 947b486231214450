/** Building the model, optimizer, scheduler and accumulator a config describes. */
import { CausalLm } from '@fathom/nn-layers';
import {
  AdamW,
  GradientAccumulator,
  type HyperParams,
  LrScheduler,
  type Optimizer,
  Sgd,
} from '@fathom/optim';
import type { Device } from '@fathom/tensor-core';
import { causalLmConfigOf, scheduleOf } from '../config/resolve.js';
import type { TrainConfig } from '../config/schema.js';

/** The trainable pieces of a run. */
export interface TrainingParts {
  model: CausalLm;
  optimizer: Optimizer<HyperParams>;
  scheduler: LrScheduler;
  accumulator: GradientAccumulator;
}

/** Builds the parts for a resolved config on `device`; the model starts in training mode. */
export function buildTraining(config: TrainConfig, device: Device): TrainingParts {
  const model = new CausalLm(causalLmConfigOf(config), { device }).train();
  const named = model.namedParameters();
  const o = config.optimizer;
  const optimizer: Optimizer<HyperParams> =
    o.name === 'adamw'
      ? new AdamW(named, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay })
      : new Sgd(named, {
          lr: o.lr,
          momentum: o.momentum,
          dampening: o.dampening,
          nesterov: o.nesterov,
          weightDecay: o.weightDecay,
        });
  const scheduler = new LrScheduler(optimizer, scheduleOf(config));
  const accumulator = new GradientAccumulator(config.data.accumulation);
  return { model, optimizer, scheduler, accumulator };
}

/** Disposes the model's parameters and the optimizer's state. */
export function disposeTraining(parts: TrainingParts): void {
  parts.optimizer.dispose();
  parts.model.dispose();
}
