/**
 * What `--data` names: a UTF-8 text file, a token shard (`.bin`), a directory of shards, or the
 * bundled Brown corpus (`brown:validation`, `brown:train`, `brown:all`), turned into token
 * sequences for the model's tokenizer.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ByteLevelBpe, TokenShardReader, loadBrownCorpus } from '@fathom/data-pipeline';

/** Options of {@link loadEvalSequences}. */
export interface EvalDataOptions {
  /** Keep at most this many tokens in all (default: everything). */
  maxTokens?: number;
}

/** The token id that opens a document: BOS, else EOS (GPT-2's convention), else none. */
export function documentStartToken(tokenizer: ByteLevelBpe): number | undefined {
  return tokenizer.bosId ?? tokenizer.eosId;
}

function encodeDocument(tokenizer: ByteLevelBpe, text: string): number[] {
  const start = documentStartToken(tokenizer);
  const ids = tokenizer.encode(text);
  // With a start token the document's first real token is scored too.
  return start === undefined || ids[0] === start ? ids : [start, ...ids];
}

async function shardSequence(path: string, vocab: number): Promise<number[]> {
  const reader = await TokenShardReader.open(path);
  try {
    if (reader.header.vocabSize > vocab)
      throw new RangeError(
        `--data ${path}: the shard was written for a vocabulary of ${reader.header.vocabSize}; the checkpoint's tokenizer has ${vocab}`,
      );
    return Array.from(await reader.readTokens(0, reader.tokenCount));
  } finally {
    await reader.close();
  }
}

/**
 * Loads evaluation data as token sequences.
 *
 * @param spec - a text file, a `.bin` shard, a directory of shards, or `brown:<split>`.
 * @param tokenizer - the checkpoint's tokenizer.
 * @returns one sequence per text file or Brown document; one per shard (documents and their
 *   end-of-document tokens as written).
 */
export async function loadEvalSequences(
  spec: string,
  tokenizer: ByteLevelBpe,
  options: EvalDataOptions = {},
): Promise<number[][]> {
  let sequences: number[][];
  const brown = /^brown:(train|validation|all)$/.exec(spec);
  if (brown) {
    const docs = await loadBrownCorpus({ split: brown[1] as 'train' | 'validation' | 'all' });
    sequences = docs.map((d) => encodeDocument(tokenizer, d.text));
  } else {
    let info;
    try {
      info = await stat(spec);
    } catch {
      throw new Error(
        `--data ${spec}: no such file or directory; expected a text file, a .bin token shard, a directory of shards or brown:<train|validation|all>`,
      );
    }
    if (info.isDirectory()) {
      const shards = (await readdir(spec)).filter((f) => f.endsWith('.bin')).sort();
      if (shards.length === 0)
        throw new Error(`--data ${spec}: the directory holds no .bin token shards`);
      sequences = [];
      for (const f of shards)
        sequences.push(await shardSequence(join(spec, f), tokenizer.vocabSize));
    } else if (spec.endsWith('.bin')) {
      sequences = [await shardSequence(spec, tokenizer.vocabSize)];
    } else {
      sequences = [encodeDocument(tokenizer, await readFile(spec, 'utf8'))];
    }
  }
  const limit = options.maxTokens;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 2)
      throw new RangeError(`--max-tokens is ${limit}; expected an integer >= 2`);
    let left = limit;
    const kept: number[][] = [];
    for (const s of sequences) {
      if (left <= 0) break;
      kept.push(s.slice(0, left));
      left -= Math.min(left, s.length);
    }
    sequences = kept;
  }
  return sequences;
}
