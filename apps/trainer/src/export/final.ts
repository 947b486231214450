/**
 * The final model in Hugging Face's layout, in `<run>/final/`: `config.json` (LlamaConfig
 * names, nn-layers' toHfConfig), `model.safetensors`, `tokenizer.json` (HF tokenizers format)
 * and `tokenizer_config.json`. Written into a temporary folder and renamed into place.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveMoeConfig, toHfMoeConfig } from '@fathom/moe';
import { type CausalLm, toHfConfig, writeFileAtomic } from '@fathom/nn-layers';
import { moeConfigOf } from '../train/build.js';
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

/**
 * DeepSeek-V2/V3 MoE fields (moe's `toHfMoeConfig`) plus which layers are MoE: `moe_layers`
 * always, and `first_k_dense_replace` / `moe_layer_freq` when the MoE layers are every layer
 * from some k on (the layout DeepSeek's configs can express).
 */
function hfMoeFields(config: TrainConfig): Record<string, unknown> {
  const moe = config.moe!;
  const layers = [...moe.layers].sort((a, b) => a - b);
  const n = config.model.numLayers;
  const k = n - layers.length;
  const suffix = layers.every((l, i) => l === k + i);
  return {
    ...toHfMoeConfig(
      resolveMoeConfig({ initStd: config.model.initializerRange, ...moeConfigOf(moe) }),
    ),
    moe_layers: layers,
    ...(suffix ? { first_k_dense_replace: k, moe_layer_freq: 1 } : {}),
  };
}

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
    ...(config.moe ? hfMoeFields(config) : {}),
    ...(config.precision && config.precision.compute !== 'f32'
      ? { torch_dtype: config.precision.compute === 'bf16' ? 'bfloat16' : 'float16' }
      : {}),
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
