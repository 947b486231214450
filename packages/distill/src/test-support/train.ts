/** Training loops shared by the end-to-end test and the benchmark. */
import { CausalLm, type CausalLmConfig } from '@fathom/nn-layers';
import { type Device, scope } from '@fathom/tensor-core';
import { AdamW } from '@fathom/optim';
import {
  DistillationProjections,
  type DistillationSchedule,
  type FrozenTeacher,
  type LayerPair,
  distillationLoss,
} from '../index.js';
import { ALPHABET, batchOf } from './corpus.js';

export const ROWS = 8;
export const LENGTH = 24;

/** A model config over the corpus alphabet. */
export function charModel(
  size: Pick<CausalLmConfig, 'hiddenSize' | 'intermediateSize' | 'numLayers' | 'numHeads'>,
  seed: number,
): CausalLmConfig {
  return { vocabSize: ALPHABET.length, maxPositionEmbeddings: LENGTH, seed, ...size };
}

/** Plain next-token training for `steps`; returns the model. */
export async function trainPlain(
  device: Device,
  config: CausalLmConfig,
  steps: number,
  lr: number,
): Promise<CausalLm> {
  const model = new CausalLm(config, { device });
  const optimizer = new AdamW(model.namedParameters(), { lr });
  for (let step = 0; step < steps; step++) {
    await scope(async () => {
      const { ids, targets } = batchOf(device, 'train', step, ROWS, LENGTH);
      model.loss(ids, targets).backward();
      await optimizer.step();
      optimizer.zeroGrad();
    });
  }
  optimizer.dispose();
  return model;
}

/** Distills a fresh student for the schedule's steps; returns it. */
export async function trainDistilled(
  device: Device,
  config: CausalLmConfig,
  teacher: FrozenTeacher,
  schedule: DistillationSchedule,
  pairs: LayerPair[],
  lr: number,
): Promise<CausalLm> {
  const student = new CausalLm(config, { device });
  const projections = DistillationProjections.between(student, teacher.model, pairs, { device });
  const optimizer = new AdamW(
    [
      ...student.namedParameters(),
      ...projections.namedParameters().map(([n, p]) => [`proj.${n}`, p] as [string, typeof p]),
    ],
    { lr },
  );
  for (let step = 0; step < schedule.totalSteps; step++) {
    await scope(async () => {
      const batch = batchOf(device, 'train', step, ROWS, LENGTH);
      const { loss } = distillationLoss(student, teacher, batch, schedule.stageAt(step), {
        pairs,
        projections,
      });
      loss.backward();
      await optimizer.step();
      optimizer.zeroGrad();
    });
  }
  optimizer.dispose();
  projections.dispose();
  return student;
}

/** Mean cross-entropy over fixed validation windows. */
export async function validationLoss(device: Device, model: CausalLm): Promise<number> {
  model.eval();
  let total = 0;
  const n = 4;
  for (let i = 0; i < n; i++) {
    total += await scope(async () => {
      const { ids, targets } = batchOf(device, 'validation', i, ROWS, LENGTH);
      return model.loss(ids, targets).item();
    });
  }
  model.train();
  return total / n;
}
