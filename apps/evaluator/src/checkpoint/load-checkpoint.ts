/**
 * Reading a model directory in Hugging Face's layout: `config.json` (LlamaConfig names),
 * `model.safetensors` (the state dict) and `tokenizer.json` (a byte-level BPE).
 */
import { access, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type ByteLevelBpe, loadTokenizer } from '@fathom/data-pipeline';
import { CausalLm, type CausalLmConfig, fromHfConfig, loadSafetensors } from '@fathom/nn-layers';
import { QUANT_METADATA_KEY, loadQuantizedModel } from '@fathom/quant';
import type { Device } from '@fathom/tensor-core';
import { readSafetensorsMetadata } from './safetensors-header.js';

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
} as const;

/** A model and its tokenizer, ready for evaluation (the model is in eval mode). */
export interface LoadedCheckpoint {
  /** Absolute path of the checkpoint directory. */
  dir: string;
  /** A short display name (the directory's name, or its parent's when it is `final`). */
  name: string;
  /** The model's configuration as read from `config.json`. */
  config: CausalLmConfig;
  /** The model on the requested device. Dispose it when done. */
  model: CausalLm;
  /** The tokenizer from `tokenizer.json`. */
  tokenizer: ByteLevelBpe;
  /**
   * The quantised layers' paths when model.safetensors is a quantised checkpoint (written by
   * `fathom-eval quantize`); absent for a float checkpoint.
   */
  quantizedLayers?: string[];
}

async function readRequired(dir: string, file: string, what: string): Promise<Buffer> {
  const path = join(dir, file);
  try {
    await access(path);
  } catch {
    throw new Error(
      `checkpoint ${dir}: ${file} is missing; expected ${what} (a directory written by fathom-train, e.g. runs/<name>/final)`,
    );
  }
  return readFile(path);
}

/** The display name of a checkpoint directory: `runs/small/final` → `small/final`. */
export function checkpointName(dir: string): string {
  const abs = resolve(dir);
  const leaf = basename(abs);
  const parent = basename(resolve(abs, '..'));
  return leaf === 'final' || /^step[-_]?\d+$/.test(leaf) ? `${parent}/${leaf}` : leaf;
}

/** Special-token names that mean end of text when nothing says otherwise. */
const EOS_NAMES = ['<|endoftext|>', '</s>', '<|eos|>', '<eos>', '<|end_of_text|>'];

/**
 * The BOS/EOS markers of a tokenizer: tokenizer.json records them only when its post-processor
 * adds them, so they come from `tokenizer_config.json` (Hugging Face's place for them) when the
 * checkpoint has one, else from a special token with a well-known end-of-text name.
 */
async function specialTokenMarkers(
  dir: string,
  tokenizer: ByteLevelBpe,
): Promise<{ bosToken?: string; eosToken?: string }> {
  const out: { bosToken?: string; eosToken?: string } = {};
  const has = (name: unknown): name is string =>
    typeof name === 'string' && tokenizer.specialTokens.has(name);
  try {
    const cfg = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const name = (v: unknown): unknown =>
      typeof v === 'object' && v !== null ? (v as { content?: unknown }).content : v;
    if (has(name(cfg.eos_token))) out.eosToken = name(cfg.eos_token) as string;
    if (has(name(cfg.bos_token))) out.bosToken = name(cfg.bos_token) as string;
  } catch {
    // No tokenizer_config.json: fall back to well-known names.
  }
  if (tokenizer.eosId === undefined && out.eosToken === undefined) {
    const found = EOS_NAMES.find((n) => tokenizer.specialTokens.has(n));
    if (found !== undefined) out.eosToken = found;
  }
  return out;
}

/**
 * Loads a checkpoint directory onto `device`.
 *
 * A model.safetensors whose metadata holds `fathom.quant` (a quantised checkpoint) is loaded
 * with `@fathom/quant`'s `loadQuantizedModel`: its quantised layers become QuantLinear layers.
 *
 * @param dir - a directory holding config.json, model.safetensors and tokenizer.json.
 * @param device - where the model's parameters go.
 * @returns the model (in eval mode), its config and tokenizer.
 * @throws Error naming the missing or inconsistent file.
 */
export async function loadCheckpoint(dir: string, device: Device): Promise<LoadedCheckpoint> {
  const abs = resolve(dir);
  const configText = await readRequired(abs, CHECKPOINT_FILES.config, 'the model config');
  let hf: unknown;
  try {
    hf = JSON.parse(configText.toString('utf8'));
  } catch (error) {
    throw new Error(
      `checkpoint ${abs}: config.json is not valid JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (typeof hf !== 'object' || hf === null || Array.isArray(hf)) {
    throw new Error(
      `checkpoint ${abs}: config.json holds ${JSON.stringify(hf)}; expected an object`,
    );
  }
  const config = fromHfConfig(hf as Record<string, unknown>);
  const tokenizerBytes = await readRequired(
    abs,
    CHECKPOINT_FILES.tokenizer,
    'the tokenizer (Hugging Face tokenizer.json)',
  );
  let tokenizer = loadTokenizer(tokenizerBytes);
  const markers = await specialTokenMarkers(abs, tokenizer);
  if (markers.eosToken !== undefined || markers.bosToken !== undefined) {
    // Only the markers are set; whether encode() adds them stays as the file says.
    tokenizer = loadTokenizer(tokenizerBytes, {
      ...markers,
      addBos: tokenizer.toConfig().addBos ?? false,
      addEos: tokenizer.toConfig().addEos ?? false,
    });
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `checkpoint ${abs}: tokenizer.json has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${config.vocabSize}; expected at most vocab_size`,
    );
  }
  await readRequired(abs, CHECKPOINT_FILES.weights, 'the weights (safetensors)');
  const weightsPath = join(abs, CHECKPOINT_FILES.weights);
  const metadata = await readSafetensorsMetadata(weightsPath);
  const model = new CausalLm(config, { device });
  let quantizedLayers: string[] | undefined;
  if (metadata[QUANT_METADATA_KEY] !== undefined) {
    try {
      quantizedLayers = (await loadQuantizedModel(model, weightsPath)).layers;
    } catch (error) {
      model.dispose();
      throw new Error(
        `checkpoint ${abs}: quantised model.safetensors does not fit config.json: ${(error as Error).message}`,
        { cause: error },
      );
    }
  } else {
    const { tensors } = await loadSafetensors(weightsPath, device);
    try {
      model.loadStateDict(tensors);
    } catch (error) {
      model.dispose();
      throw new Error(
        `checkpoint ${abs}: model.safetensors does not fit config.json: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      // Tied weights appear under two names but share storage; dispose each tensor once.
      for (const t of new Set(tensors.values())) t.dispose();
    }
  }
  model.eval();
  for (const p of model.parameters()) p.requireGrad(false);
  return {
    dir: abs,
    name: checkpointName(abs),
    config,
    model,
    tokenizer,
    ...(quantizedLayers === undefined ? {} : { quantizedLayers }),
  };
}
