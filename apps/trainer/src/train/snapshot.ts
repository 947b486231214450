/** Turning the training state into checkpoint files, and back. */
import type { TokenWindowLoaderState } from '@fathom/data-pipeline';
import { type RawTensor, rawToValues, serializeSafetensors, tensorToRaw } from '@fathom/nn-layers';
import { type Device, type Tensor, fromArray } from '@fathom/tensor-core';
import type { SafetensorsContents } from '@fathom/nn-layers';
import { CHECKPOINT_FILES, CHECKPOINT_FORMAT, type TrainerState } from '../checkpoint/format.js';
import type { LoadedCheckpoint } from '../checkpoint/read.js';
import type { CheckpointFiles } from '../checkpoint/write.js';
import type { TrainConfig } from '../config/schema.js';
import type { TrainingParts } from './build.js';
import { generatorStates, restoreGeneratorStates } from './generators.js';

async function safetensorsOf(tensors: Iterable<[string, Tensor]>): Promise<Uint8Array> {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) raw.set(name, await tensorToRaw(t));
  return serializeSafetensors(raw, { format: 'pt' });
}

/** The bytes of the model's weights as a safetensors file (tied weights under both names). */
export async function modelSafetensors(parts: Pick<TrainingParts, 'model'>): Promise<Uint8Array> {
  return safetensorsOf(parts.model.stateDict());
}

/** Everything a checkpoint holds, as file contents by name. */
export async function snapshotFiles(
  parts: TrainingParts,
  config: TrainConfig,
  progress: {
    step: number;
    loader: TokenWindowLoaderState;
    tokensSeen: number;
    elapsedSeconds: number;
  },
): Promise<CheckpointFiles> {
  const optimizerState = parts.optimizer.stateDict();
  let optimizerBytes: Uint8Array;
  try {
    optimizerBytes = await safetensorsOf(Object.entries(optimizerState.tensors));
  } finally {
    for (const t of Object.values(optimizerState.tensors)) t.dispose();
  }
  const precisionState = parts.precision.stateDict();
  let precisionBytes: Uint8Array;
  try {
    precisionBytes = await safetensorsOf(Object.entries(precisionState.tensors));
  } finally {
    for (const t of Object.values(precisionState.tensors)) t.dispose();
  }
  const state: TrainerState = {
    format: CHECKPOINT_FORMAT,
    step: progress.step,
    optimizer: optimizerState.meta,
    scheduler: parts.scheduler.stateDict(),
    precision: precisionState.meta,
    generators: generatorStates(parts.model),
    layerDropStep: parts.model.layerDropStep,
    loader: progress.loader,
    tokensSeen: progress.tokensSeen,
    elapsedSeconds: progress.elapsedSeconds,
  };
  const projections = parts.distill?.projections;
  const distillFiles: [string, Uint8Array][] =
    projections && projections.numParameters() > 0
      ? [[CHECKPOINT_FILES.distill, await safetensorsOf(projections.stateDict())]]
      : [];
  return new Map<string, Uint8Array | string>([
    [CHECKPOINT_FILES.model, await modelSafetensors(parts)],
    ...distillFiles,
    [CHECKPOINT_FILES.optimizer, optimizerBytes],
    [CHECKPOINT_FILES.precision, precisionBytes],
    [CHECKPOINT_FILES.state, JSON.stringify(state, null, 2)],
    [CHECKPOINT_FILES.config, JSON.stringify(config, null, 2)],
  ]);
}

function tensorsOf(contents: SafetensorsContents, device: Device): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const [name, raw] of contents.tensors) {
      const { dtype, values } = rawToValues(raw);
      out.set(name, fromArray(values, raw.shape, { device, dtype }));
    }
  } catch (error) {
    for (const t of out.values()) t.dispose();
    throw error;
  }
  return out;
}

/**
 * Loads a verified checkpoint into freshly built parts: the model, then the optimizer, then
 * precision's master weights and loss scaler, the schedule and the generators.
 */
export async function restoreSnapshot(
  parts: TrainingParts,
  checkpoint: LoadedCheckpoint,
  device: Device,
): Promise<void> {
  const weights = tensorsOf(checkpoint.model, device);
  try {
    parts.model.loadStateDict(weights);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  const projections = parts.distill?.projections;
  if (projections && projections.numParameters() > 0) {
    if (!checkpoint.distill)
      throw new Error(
        `resume: ${checkpoint.dir} has no ${CHECKPOINT_FILES.distill}, but this config distills through projections`,
      );
    const saved = tensorsOf(checkpoint.distill, device);
    try {
      projections.loadStateDict(saved);
    } finally {
      for (const t of saved.values()) t.dispose();
    }
  }
  const optimizerTensors: Record<string, ArrayLike<number>> = {};
  for (const [name, raw] of checkpoint.optimizer.tensors)
    optimizerTensors[name] = rawToValues(raw).values;
  await parts.optimizer.loadStateDict({
    tensors: optimizerTensors as Record<string, Float32Array>,
    meta: checkpoint.state.optimizer,
  });
  const meta = checkpoint.state.precision;
  if (meta) {
    const masters = checkpoint.precision
      ? tensorsOf(checkpoint.precision, device)
      : new Map<string, Tensor>();
    try {
      parts.precision.loadStateDict({ tensors: Object.fromEntries(masters), meta });
    } finally {
      for (const t of masters.values()) t.dispose();
    }
  } else if (parts.precision.masters.entries.some((e) => e.owned) || parts.precision.scaler)
    throw new Error(
      `resume: ${checkpoint.dir} has no precision state, but this config keeps master weights or a loss scaler`,
    );
  parts.scheduler.loadStateDict(checkpoint.state.scheduler);
  restoreGeneratorStates(parts.model, checkpoint.state.generators);
  parts.model.layerDropStep = checkpoint.state.layerDropStep;
}
