/**
 * @fathom/nn-layers: modules, a LLaMA-style causal language model, LoRA,
 * activation checkpointing, LayerDrop, layer sharing, and safetensors I/O.
 * @packageDocumentation
 */
export { Module, patternToRegExp } from './module.js';
export type { NamePattern, LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { Linear } from './layers/linear.js';
export type { LinearOptions } from './layers/linear.js';
export { Embedding } from './layers/embedding.js';
export type { EmbeddingOptions } from './layers/embedding.js';
export { LayerNorm, RmsNorm } from './layers/norms.js';
export { Dropout } from './layers/dropout.js';
export { Rope } from './layers/rope.js';
export { CausalSelfAttention } from './layers/attention.js';
export type { AttentionOptions, AttentionCallOptions } from './layers/attention.js';
export { KvCache, LayerKvCache } from './layers/kv-cache.js';
export { SwiGlu, GeluMlp } from './layers/mlp.js';
export type { MlpOptions } from './layers/mlp.js';
export { DecoderBlock } from './layers/decoder-block.js';
export type { DecoderBlockOptions } from './layers/decoder-block.js';
export { normalInit, constantInit } from './layers/init.js';
export type { InitOptions } from './layers/init.js';
export { CausalLm, DecoderStack } from './models/causal-lm.js';
export type { CausalLmCallOptions, ForwardHooks } from './models/causal-lm.js';
export { resolveConfig, sharingGroups, toHfConfig, fromHfConfig } from './models/config.js';
export type { CausalLmConfig } from './models/config.js';
export { layerDropDraw } from './models/layer-drop.js';
export {
  parseSafetensors,
  serializeSafetensors,
  SafetensorsError,
  SAFETENSORS_DTYPE_SIZE,
  MAX_HEADER_BYTES,
} from './io/safetensors.js';
export type { RawTensor, SafetensorsContents, SafetensorsDType } from './io/safetensors.js';
export { saveSafetensors, loadSafetensors, tensorToRaw, rawToValues } from './io/tensor-io.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { Checkpointed } from './training/checkpoint.js';
export type { TensorModule } from './training/checkpoint.js';
export { LoraLinear, applyLora, mergeLora, twoStageTraining } from './training/lora.js';
export type { LoraOptions } from './training/lora.js';
