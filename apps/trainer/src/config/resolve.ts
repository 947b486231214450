/** Turning a validated config into what the run uses: data folder, model config, schedule. */
import { resolve } from 'node:path';
import type { CausalLmConfig } from '@fathom/nn-layers';
import { type LrSchedule, constantLr, cosineDecay, linearDecay, warmupCosine } from '@fathom/optim';
import type { DataSection, TrainConfig } from './schema.js';

/** The data folder: `data.dir`, or `data/<corpus>-<genres>-bpe<vocab>` under `cwd`. */
export function dataDirOf(data: DataSection, cwd = process.cwd()): string {
  if (data.dir !== undefined) return resolve(cwd, data.dir);
  const genres = data.genres ? [...data.genres].sort().join('') : 'all';
  return resolve(cwd, 'data', `${data.corpus}-${genres}-bpe${data.tokenizer.vocabSize}`);
}

/**
 * The config a run records: every default filled, `data.dir` absolute, and the model's
 * `vocabSize`, `maxPositionEmbeddings` and `seed` made explicit.
 */
export function resolveRunConfig(
  config: TrainConfig,
  vocabSize: number,
  cwd = process.cwd(),
): TrainConfig {
  if (config.model.vocabSize !== undefined && config.model.vocabSize !== vocabSize)
    throw new RangeError(
      `model.vocabSize is ${config.model.vocabSize}; the prepared tokenizer has ${vocabSize} tokens (leave model.vocabSize out to use it)`,
    );
  return {
    ...config,
    data: { ...config.data, dir: dataDirOf(config.data, cwd) },
    ...(config.distill
      ? { distill: { ...config.distill, teacher: resolve(cwd, config.distill.teacher) } }
      : {}),
    model: {
      ...config.model,
      vocabSize,
      maxPositionEmbeddings: config.model.maxPositionEmbeddings ?? config.data.contextLength,
      seed: config.model.seed ?? config.seed,
    },
  };
}

/** nn-layers' `CausalLmConfig` from a resolved config. */
export function causalLmConfigOf(config: TrainConfig): CausalLmConfig {
  const m = config.model;
  if (m.vocabSize === undefined || m.maxPositionEmbeddings === undefined)
    throw new Error('causalLmConfigOf: the config is not resolved (call resolveRunConfig first)');
  const out: CausalLmConfig = {
    vocabSize: m.vocabSize,
    hiddenSize: m.hiddenSize,
    intermediateSize: m.intermediateSize,
    numLayers: m.numLayers,
    numHeads: m.numHeads,
    maxPositionEmbeddings: m.maxPositionEmbeddings,
    ropeTheta: m.ropeTheta,
    tieWordEmbeddings: m.tieWordEmbeddings,
    mlp: m.mlp,
    norm: m.norm,
    initializerRange: m.initializerRange,
    attentionDropout: m.attentionDropout,
    hiddenDropout: m.hiddenDropout,
    layerDrop: m.layerDrop,
    seed: m.seed ?? config.seed,
  };
  if (m.numKvHeads !== undefined) out.numKvHeads = m.numKvHeads;
  if (m.normEps !== undefined) out.normEps = m.normEps;
  if (m.layerGroups !== undefined) out.layerGroups = m.layerGroups;
  return out;
}

/** The optim schedule for `config.schedule` over `config.training.steps`. */
export function scheduleOf(config: TrainConfig): LrSchedule {
  const s = config.schedule;
  const totalSteps = config.training.steps;
  switch (s.kind) {
    case 'constant':
      return constantLr();
    case 'linear':
      return linearDecay({ totalSteps, endFactor: s.endFactor });
    case 'cosine':
      return cosineDecay({ totalSteps, floorRatio: s.floorRatio });
    case 'warmupCosine':
      return warmupCosine({ warmupSteps: s.warmupSteps, totalSteps, floorRatio: s.floorRatio });
  }
}
