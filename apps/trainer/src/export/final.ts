/**
 * The final model in Hugging Face's layout, in `<run>/final/`: `config.json` (LlamaConfig
 * names, nn-layers' toHfConfig), `model.safetensors`, `tokenizer.json` (HF tokenizers format)
 * and `tokenizer_config.json`. Written into a temporary folder and renamed into place.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type CausalLm, toHfConfig, writeFileAtomic } from '@fathom/nn-layers';
import { causalLmConfigOf } from '../config/resolve.js';
import type { TrainConfig } from '../config/schema.js';
import { EOS_TOKEN } from '../prepare/prepare.js';
import { modelSafetensors } from '../train/snapshot.js';

/** File names of the exported model. */
export const FINAL_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

/** Writes `<runDir>/final/` for `model`. Returns the folder. */
export async function exportFinal(
  runDir: string,
  model: CausalLm,
  config: TrainConfig,
  tokenizer: { json: string; eosId: number },
): Promise<string> {
  const dir = join(runDir, 'final');
  const tmp = join(runDir, `.final-tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const hf = {
    ...toHfConfig(causalLmConfigOf(config)),
    eos_token_id: tokenizer.eosId,
    bos_token_id: tokenizer.eosId,
  };
  await writeFileAtomic(join(tmp, FINAL_FILES.config), JSON.stringify(hf, null, 2));
  await writeFileAtomic(join(tmp, FINAL_FILES.model), await modelSafetensors({ model }));
  await writeFileAtomic(join(tmp, FINAL_FILES.tokenizer), tokenizer.json);
  await writeFileAtomic(
    join(tmp, FINAL_FILES.tokenizerConfig),
    JSON.stringify(
      {
        tokenizer_class: 'PreTrainedTokenizerFast',
        bos_token: EOS_TOKEN,
        eos_token: EOS_TOKEN,
        model_max_length: model.config.maxPositionEmbeddings,
      },
      null,
      2,
    ),
  );
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}
