/** Shared pieces of the trainer's tests: a tiny config and a prepared-data folder they share. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, validateConfig } from '../config/load.js';
import type { TrainConfig, TrainConfigInput } from '../config/schema.js';

/** Prepared data shared by every test file (prepare is safe to race: it renames into place). */
export const SHARED_DATA_DIR = join(tmpdir(), 'fathom-trainer-test-data', 'brown-a-bpe512');

/** A tiny model on one Brown genre: trains a step in well under a second on lavapipe. */
export const TINY_CONFIG: TrainConfigInput = {
  name: 'tiny',
  seed: 7,
  backend: 'webgpu',
  model: {
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 2,
    tieWordEmbeddings: true,
  },
  data: {
    genres: ['a'],
    dir: SHARED_DATA_DIR,
    tokenizer: { vocabSize: 512 },
    contextLength: 16,
    batchSize: 4,
  },
  optimizer: { name: 'adamw', lr: 0.01 },
  schedule: { kind: 'warmupCosine', warmupSteps: 2 },
  training: {
    steps: 8,
    evalInterval: 4,
    evalBatches: 2,
    logInterval: 1,
    checkpointInterval: 4,
    keepCheckpoints: 2,
  },
  sample: { maxNewTokens: 6 },
};

/** The tiny config with `path=value` overrides, validated. */
export function tinyConfig(overrides: Record<string, unknown> = {}): TrainConfig {
  return validateConfig(
    applyOverrides(
      TINY_CONFIG,
      Object.entries(overrides).map(([path, value]) => ({ path, value })),
    ),
    'tiny test config',
  );
}

/** A fresh temporary folder. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `fathom-trainer-${prefix}-`));
}
