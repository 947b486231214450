/** Writing a model and tokenizer as a Hugging Face-layout directory (what fathom-train writes). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ByteLevelBpe, toHuggingFaceJson } from '@fathom/data-pipeline';
import { type CausalLm, saveSafetensors, toHfConfig, writeFileAtomic } from '@fathom/nn-layers';
import { CHECKPOINT_FILES } from './load-checkpoint.js';

/**
 * Saves `model` (config.json + model.safetensors) and `tokenizer` (tokenizer.json) into `dir`,
 * each file written atomically.
 *
 * @param dir - the directory (created if missing).
 * @param model - the model; its config and state dict are written.
 * @param tokenizer - the tokenizer.
 */
export async function saveCheckpoint(
  dir: string,
  model: CausalLm,
  tokenizer: ByteLevelBpe,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, CHECKPOINT_FILES.config),
    JSON.stringify(toHfConfig(model.config), null, 2) + '\n',
  );
  await saveSafetensors(join(dir, CHECKPOINT_FILES.weights), model.stateDict());
  await writeFileAtomic(
    join(dir, CHECKPOINT_FILES.tokenizer),
    JSON.stringify(toHuggingFaceJson(tokenizer)),
  );
}
