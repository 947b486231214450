export {
  SHARD_MAGIC,
  SHARD_VERSION,
  SHARD_HEADER_BYTES,
  tokenBytes,
  dtypeForVocab,
  encodeShardHeader,
  decodeShardHeader,
} from './format.js';
export type { ShardHeader, TokenDtype } from './format.js';
export { TokenShardWriter } from './writer.js';
export type { TokenShardWriterOptions, ShardSummary } from './writer.js';
export { TokenShardReader } from './reader.js';
export type { TokenArray } from './reader.js';
export { writeTokenShards } from './write-shards.js';
export type {
  ShardTokenizer,
  WriteTokenShardsOptions,
  WriteTokenShardsResult,
} from './write-shards.js';
export { ShardWindows } from './windows.js';
export type { WindowLocation } from './windows.js';
export { TokenWindowLoader } from './loader.js';
export type { TokenWindowLoaderOptions, TokenBatch } from './loader.js';
export type { TokenWindowLoaderState } from './loader-state.js';
export { createShardsProgram } from './cli.js';
export type { ShardsCliIo } from './cli.js';
