import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dtypeForVocab } from './format.js';
import type { TokenDtype } from './format.js';
import { TokenShardWriter } from './writer.js';
import type { ShardSummary } from './writer.js';

/**
 * What shard writing needs from a tokenizer: text to ids, and how many ids there are. Any
 * tokenizer with these two members works.
 */
export interface ShardTokenizer {
  /** Encodes a text to token ids. */
  encode(text: string): number[] | Uint32Array;
  /** Number of token ids; every id is below it. */
  vocabSize: number;
}

/** Options of {@link writeTokenShards}. */
export interface WriteTokenShardsOptions {
  /** Directory for the shards (created if missing). */
  directory: string;
  /** File name prefix; shards are `<prefix>-00000.bin`, `<prefix>-00001.bin`, ... (default `shard`). */
  prefix?: string;
  /**
   * A new shard starts once the current one holds this many tokens (default 2^27, 256 MiB of
   * u16 tokens). Documents are never split, so a shard may exceed it by one document.
   */
  maxTokensPerShard?: number;
  /** Token element type (default: the smallest that holds `vocabSize` ids). */
  dtype?: TokenDtype;
  /** Token appended after each document, usually the tokenizer's end-of-text id. */
  eosToken?: number;
  /** Called after each shard is closed. */
  onShard?: (summary: ShardSummary) => void;
}

/** The result of {@link writeTokenShards}. */
export interface WriteTokenShardsResult {
  /** The shards written, in order. */
  shards: ShardSummary[];
  /** Documents written. */
  documents: number;
  /** Tokens written, end-of-document tokens included. */
  tokens: number;
}

/**
 * Tokenizes documents and writes them to token shards.
 *
 * @param docs - documents or plain strings, synchronous or asynchronous.
 * @param tokenizer - anything with `encode(text)` and `vocabSize`.
 * @param options - output location, shard size, dtype and end-of-document token.
 * @returns the shards written and the totals.
 */
export async function writeTokenShards(
  docs: Iterable<string | { text: string }> | AsyncIterable<string | { text: string }>,
  tokenizer: ShardTokenizer,
  options: WriteTokenShardsOptions,
): Promise<WriteTokenShardsResult> {
  if (typeof tokenizer?.encode !== 'function' || !Number.isInteger(tokenizer.vocabSize)) {
    throw new TypeError(
      'writeTokenShards: tokenizer lacks encode(text) or an integer vocabSize; expected { encode(text): number[] | Uint32Array; vocabSize: number }',
    );
  }
  const prefix = options.prefix ?? 'shard';
  const maxTokens = options.maxTokensPerShard ?? 2 ** 27;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(
      `writeTokenShards: options.maxTokensPerShard is ${maxTokens}; expected an integer >= 1`,
    );
  }
  const dtype = options.dtype ?? dtypeForVocab(tokenizer.vocabSize);
  await mkdir(options.directory, { recursive: true });
  const shards: ShardSummary[] = [];
  let writer: TokenShardWriter | undefined;
  let documents = 0;
  let tokens = 0;
  const finish = async (): Promise<void> => {
    if (!writer) return;
    const summary = await writer.close();
    shards.push(summary);
    options.onShard?.(summary);
    writer = undefined;
  };
  try {
    for await (const doc of docs) {
      const text = typeof doc === 'string' ? doc : doc.text;
      const ids = tokenizer.encode(text);
      writer ??= await TokenShardWriter.create(
        join(options.directory, `${prefix}-${String(shards.length).padStart(5, '0')}.bin`),
        {
          dtype,
          vocabSize: tokenizer.vocabSize,
          ...(options.eosToken === undefined ? {} : { eosToken: options.eosToken }),
        },
      );
      const before = writer.tokens;
      await writer.appendDocument(ids);
      tokens += writer.tokens - before;
      documents++;
      if (writer.tokens >= maxTokens) await finish();
    }
    await finish();
  } catch (error) {
    await writer?.abort();
    throw error;
  }
  return { shards, documents, tokens };
}
