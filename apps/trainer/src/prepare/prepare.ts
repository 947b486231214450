/**
 * `prepare`: corpus → tokenizer → shards. Trains a byte-level BPE tokenizer on the training
 * split, writes both splits as token shards, and records the validation split's unigram
 * entropy. The result is keyed by the data settings, so a second run reuses it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BrownDocument,
  type ByteLevelBpe,
  loadBrownCorpus,
  loadTokenizer,
  toHuggingFaceJson,
  trainByteLevelBpe,
  writeTokenShards,
} from '@fathom/data-pipeline';
import { writeFileAtomic } from '@fathom/nn-layers';
import { dataDirOf } from '../config/resolve.js';
import type { DataSection } from '../config/schema.js';
import { type Log, silentLog } from '../io.js';
import { unigramEntropy } from './unigram.js';

/** The end-of-document token every shard document ends with. */
export const EOS_TOKEN = '<|endoftext|>';

const PREPARED_FORMAT = 'fathom.trainer.prepared/1';

/** What `prepared.json` records about a data folder. */
export interface PreparedData {
  format: typeof PREPARED_FORMAT;
  /** The data settings the folder was made from (a different key means prepare again). */
  key: PrepareKey;
  /** Tokens in the tokenizer. */
  vocabSize: number;
  /** Id of {@link EOS_TOKEN}. */
  eosId: number;
  /** Shard files relative to the folder, per split. */
  shards: { train: string[]; validation: string[] };
  documents: { train: number; validation: number };
  tokens: { train: number; validation: number };
  /** Entropy (nats) of the validation tokens' unigram distribution: the baseline to beat. */
  unigramEntropy: number;
  /** Seconds prepare took. */
  seconds: number;
}

/** The settings that determine a prepared folder's contents. */
export interface PrepareKey {
  corpus: string;
  genres: string[] | 'all';
  validationFraction: number;
  vocabSize: number;
  minFrequency: number;
}

/** A prepared folder, opened: its description, absolute shard paths and the tokenizer. */
export interface PreparedDataset {
  dir: string;
  info: PreparedData;
  trainShards: string[];
  validationShards: string[];
  tokenizer: ByteLevelBpe;
  /** The tokenizer in Hugging Face's `tokenizer.json` form. */
  tokenizerJson: string;
}

function keyOf(data: DataSection): PrepareKey {
  return {
    corpus: data.corpus,
    genres: data.genres ? [...new Set(data.genres)].sort() : 'all',
    validationFraction: data.validationFraction,
    vocabSize: data.tokenizer.vocabSize,
    minFrequency: data.tokenizer.minFrequency,
  };
}

async function readPrepared(dir: string): Promise<PreparedData | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'prepared.json'), 'utf8')) as PreparedData;
  } catch {
    return undefined;
  }
}

async function openPrepared(dir: string, info: PreparedData): Promise<PreparedDataset> {
  const tokenizerJson = await readFile(join(dir, 'tokenizer.json'), 'utf8');
  return {
    dir,
    info,
    trainShards: info.shards.train.map((s) => join(dir, s)),
    validationShards: info.shards.validation.map((s) => join(dir, s)),
    tokenizer: loadTokenizer(tokenizerJson),
    tokenizerJson,
  };
}

async function documentsOf(
  data: DataSection,
  split: 'train' | 'validation',
): Promise<BrownDocument[]> {
  const docs = await loadBrownCorpus({ split, validationFraction: data.validationFraction });
  const genres = data.genres;
  return genres
    ? docs.filter((d) => d.meta !== undefined && genres.includes(d.meta.category))
    : docs;
}

/**
 * Prepares the data folder of `data` (see {@link dataDirOf}), or reuses it when its
 * `prepared.json` matches these settings. The folder is built under a temporary name and
 * renamed into place, so a crash never leaves a half-prepared folder that looks finished.
 */
export async function prepareData(
  data: DataSection,
  options: { log?: Log; cwd?: string; force?: boolean } = {},
): Promise<PreparedDataset> {
  const log = options.log ?? silentLog;
  const dir = dataDirOf(data, options.cwd);
  const key = keyOf(data);
  const existing = await readPrepared(dir);
  if (existing && !options.force) {
    if (JSON.stringify(existing.key) === JSON.stringify(key)) {
      log.info(`data: reusing ${dir} (${existing.tokens.train} training tokens)`);
      return openPrepared(dir, existing);
    }
    throw new Error(
      `prepare: ${dir} holds data prepared with ${JSON.stringify(existing.key)}; this config asks for ${JSON.stringify(key)}. Set data.dir to another folder or delete it.`,
    );
  }
  const started = performance.now();
  const train = await documentsOf(data, 'train');
  const validation = await documentsOf(data, 'validation');
  if (train.length === 0 || validation.length === 0)
    throw new Error(
      `prepare: the selection has ${train.length} training and ${validation.length} validation documents; expected both non-empty (add genres or raise data.validationFraction)`,
    );
  log.info(
    `prepare: ${train.length} training and ${validation.length} validation documents of the ${data.corpus} corpus (${key.genres === 'all' ? 'all genres' : `genres ${key.genres.join('')}`})`,
  );
  const tokenizer = trainByteLevelBpe(
    train.map((d) => d.text),
    {
      vocabSize: data.tokenizer.vocabSize,
      minFrequency: data.tokenizer.minFrequency,
      specialTokens: [EOS_TOKEN],
      eosToken: EOS_TOKEN,
    },
  );
  const eosId = tokenizer.eosId;
  if (eosId === undefined) throw new Error(`prepare: the tokenizer has no id for ${EOS_TOKEN}`);
  log.info(`prepare: trained a byte-level BPE tokenizer with ${tokenizer.vocabSize} tokens`);

  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const tokenizerJson = JSON.stringify(toHuggingFaceJson(tokenizer));
  await writeFile(join(tmp, 'tokenizer.json'), tokenizerJson);
  const counts = new Float64Array(tokenizer.vocabSize);
  const counting = {
    vocabSize: tokenizer.vocabSize,
    encode: (text: string) => {
      const ids = tokenizer.encode(text);
      for (const id of ids) counts[id]! += 1;
      counts[eosId]! += 1;
      return ids;
    },
  };
  const trainResult = await writeTokenShards(train, tokenizer, {
    directory: join(tmp, 'train'),
    eosToken: eosId,
  });
  const validationResult = await writeTokenShards(validation, counting, {
    directory: join(tmp, 'validation'),
    eosToken: eosId,
  });
  const info: PreparedData = {
    format: PREPARED_FORMAT,
    key,
    vocabSize: tokenizer.vocabSize,
    eosId,
    shards: {
      train: trainResult.shards.map((s) => join('train', s.path.split(/[\\/]/).at(-1)!)),
      validation: validationResult.shards.map((s) =>
        join('validation', s.path.split(/[\\/]/).at(-1)!),
      ),
    },
    documents: { train: trainResult.documents, validation: validationResult.documents },
    tokens: { train: trainResult.tokens, validation: validationResult.tokens },
    unigramEntropy: unigramEntropy(counts),
    seconds: (performance.now() - started) / 1000,
  };
  await writeFileAtomic(join(tmp, 'prepared.json'), JSON.stringify(info, null, 2));
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, '..'), { recursive: true });
  try {
    await rename(tmp, dir);
  } catch (error) {
    // Another process prepared the same folder meanwhile: use theirs if it matches.
    await rm(tmp, { recursive: true, force: true });
    const theirs = await readPrepared(dir);
    if (theirs && JSON.stringify(theirs.key) === JSON.stringify(key))
      return openPrepared(dir, theirs);
    throw error;
  }
  log.info(
    `prepare: ${info.tokens.train} training and ${info.tokens.validation} validation tokens in ${dir} (${info.seconds.toFixed(1)} s); unigram entropy of the validation tokens ${info.unigramEntropy.toFixed(3)} nats`,
  );
  return openPrepared(dir, info);
}
