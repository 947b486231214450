// Public API of the tokenizer topic.

export {
  ByteLevelBpe,
  type ByteLevelBpeConfig,
  type DecodeOptions,
  type EncodeOptions,
} from './bpe-encoder.js';
export {
  countPretokens,
  learnMerges,
  trainByteLevelBpe,
  type BpeTrainerOptions,
  type LearnedMerges,
} from './bpe-trainer.js';
export { BYTE_TO_UNICODE, byteLevelToBytes, bytesToByteLevel } from './byte-level.js';
export {
  fromHuggingFaceJson,
  mergesFromRanks,
  toHuggingFaceJson,
  type HuggingFaceLoadOptions,
} from './hf-tokenizer-json.js';
export { loadTokenizer, type LoadTokenizerOptions } from './load.js';
export {
  CL100K_PATTERN,
  GPT2_PATTERN,
  LLAMA3_PATTERN,
  compilePretokenizerPattern,
} from './pattern.js';
export { CL100K_BASE, R50K_BASE } from './presets.js';
export { Pretokenizer } from './pretokenize.js';
export type { SpecialTokenPolicy } from './special-tokens.js';
export {
  formatTiktokenRanks,
  fromJsTiktokenBundle,
  fromTiktokenRanks,
  parseTiktokenRanks,
  toTiktokenRanks,
  type JsTiktokenBundle,
  type TiktokenOptions,
} from './tiktoken-ranks.js';
export { decodeWtf8, encodeWtf8, type LoneSurrogateMode } from './wtf8.js';
