/**
 * Tiny checkpoints for tests and benchmarks: a byte-level BPE trained on a few Brown training
 * documents and a small randomly initialised CausalLm, saved in the trainer's layout.
 */
import { type ByteLevelBpe, loadBrownCorpus, trainByteLevelBpe } from '@fathom/data-pipeline';
import { CausalLm, type CausalLmConfig } from '@fathom/nn-layers';
import type { Device } from '@fathom/tensor-core';
import { saveCheckpoint } from '../checkpoint/save-checkpoint.js';

/** The end-of-text token of tiny tokenizers. */
export const TINY_EOS = '<|endoftext|>';

/** Options of {@link buildTinyCheckpoint}. */
export interface TinyCheckpointOptions {
  /** Weight seed (default 1). */
  seed?: number;
  /** Model shape overrides. */
  config?: Partial<CausalLmConfig>;
  /** Tokenizer vocabulary (default 384). */
  tokenizerVocab?: number;
  /** Brown training documents the tokenizer learns from (default 4). */
  documents?: number;
}

let cachedTokenizer: { key: string; tokenizer: ByteLevelBpe } | undefined;

/** A byte-level BPE trained on the first `documents` Brown training documents. */
export async function tinyTokenizer(vocab = 384, documents = 4): Promise<ByteLevelBpe> {
  const key = `${vocab}/${documents}`;
  if (cachedTokenizer?.key === key) return cachedTokenizer.tokenizer;
  const docs = (await loadBrownCorpus({ split: 'train' })).slice(0, documents);
  const tokenizer = trainByteLevelBpe(
    docs.map((d) => d.text),
    { vocabSize: vocab, specialTokens: [TINY_EOS], eosToken: TINY_EOS },
  );
  cachedTokenizer = { key, tokenizer };
  return tokenizer;
}

/**
 * Builds a tiny model and tokenizer and writes them to `dir` as config.json, model.safetensors
 * and tokenizer.json.
 *
 * @returns the config written.
 */
export async function buildTinyCheckpoint(
  dir: string,
  device: Device,
  options: TinyCheckpointOptions = {},
): Promise<CausalLmConfig> {
  const tokenizer = await tinyTokenizer(options.tokenizerVocab, options.documents);
  const config: CausalLmConfig = {
    vocabSize: tokenizer.vocabSize,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxPositionEmbeddings: 256,
    // Larger than LLaMA's 0.02 so that a random model's predictions are far from uniform.
    initializerRange: 0.2,
    seed: options.seed ?? 1,
    ...options.config,
  };
  const model = new CausalLm(config, { device });
  try {
    await saveCheckpoint(dir, model, tokenizer);
  } finally {
    model.dispose();
  }
  return config;
}
