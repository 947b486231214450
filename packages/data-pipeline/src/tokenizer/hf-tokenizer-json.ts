// Hugging Face `tokenizer.json` for byte-level BPE models (GPT-2, RoBERTa, LLaMA-3, Qwen...).
// Supported: model.type "BPE" with vocab and merges ("a b" strings or [a, b] arrays), the
// ByteLevel pre-tokenizer alone or after Split(Regex, Isolated) steps, added tokens, a ByteLevel
// decoder, and ByteLevel / TemplateProcessing post-processors (read as BOS/EOS). Anything else
// is rejected with an error that names the field, what it holds and what is supported, because
// silently ignoring it would change token ids.

import { byteLevelToBytes, bytesToByteLevel } from './byte-level.js';
import { ByteLevelBpe, type ByteLevelBpeConfig } from './bpe-encoder.js';
import { scanMerge } from './bpe-merge.js';
import { MAX_TOKEN_ID, bytesKey, mergeTableFromRanks } from './merge-table.js';
import { GPT2_PATTERN } from './pattern.js';

/** Options when loading a `tokenizer.json`; the file supplies everything else. */
export interface HuggingFaceLoadOptions {
  /** See {@link ByteLevelBpeConfig.loneSurrogates}. Default `'wtf8'`. */
  readonly loneSurrogates?: ByteLevelBpeConfig['loneSurrogates'];
  /**
   * Special (added) tokens recognised in text by default. Default `'all'`, which is what
   * Hugging Face tokenizers does.
   */
  readonly allowedSpecial?: ByteLevelBpeConfig['allowedSpecial'];
  /** Overrides the BOS token read from the post-processor. */
  readonly bosToken?: string;
  /** Overrides the EOS token read from the post-processor. */
  readonly eosToken?: string;
  /** Overrides whether BOS is added by default (the file's post-processor decides otherwise). */
  readonly addBos?: boolean;
  /** Overrides whether EOS is added by default (the file's post-processor decides otherwise). */
  readonly addEos?: boolean;
  /** See {@link ByteLevelBpeConfig.cacheSize}. */
  readonly cacheSize?: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(field: string, found: unknown, expected: string): never {
  throw new Error(`fromHuggingFaceJson: ${field} is ${describe(found)}; expected ${expected}`);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const isNullish = (v: unknown): boolean => v === null || v === undefined;

/**
 * Builds a tokenizer from a Hugging Face `tokenizer.json` (its text or the parsed object).
 *
 * @throws Error naming the first field that is malformed or uses an unsupported component
 */
export function fromHuggingFaceJson(
  json: string | object,
  options: HuggingFaceLoadOptions = {},
): ByteLevelBpe {
  let root: unknown = json;
  if (typeof json === 'string') {
    try {
      root = JSON.parse(json);
    } catch (err) {
      throw new Error(`fromHuggingFaceJson: json is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  if (!isObject(root)) fail('the root', root, 'an object');
  const model = root['model'];
  if (!isObject(model)) fail('model', model, 'an object');
  if (model['type'] !== 'BPE' && !(model['type'] === undefined && 'merges' in model)) {
    fail('model.type', model['type'], '"BPE" (byte-level BPE is the supported model)');
  }
  if (!isNullish(model['dropout']) && model['dropout'] !== 0) {
    fail('model.dropout', model['dropout'], 'null (BPE dropout is a training-time option)');
  }
  for (const field of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    if (!isNullish(model[field]) && model[field] !== '') {
      fail(`model.${field}`, model[field], 'null (byte-level BPE has no subword markers)');
    }
  }
  if (model['byte_fallback'] === true) {
    fail('model.byte_fallback', true, 'false (byte-level BPE covers all bytes already)');
  }
  if (!isNullish(root['normalizer'])) fail('normalizer', root['normalizer'], 'null');
  if (!isNullish(root['truncation'])) fail('truncation', root['truncation'], 'null');
  if (!isNullish(root['padding'])) fail('padding', root['padding'], 'null');
  checkDecoder(root['decoder']);

  const vocab = model['vocab'];
  if (!isObject(vocab)) fail('model.vocab', vocab, 'an object mapping token strings to ids');
  const tokens: (Uint8Array | undefined)[] = [];
  const idOf = new Map<string, number>();
  for (const [text, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
      fail(`model.vocab[${JSON.stringify(text)}]`, id, `an integer id in [0, ${MAX_TOKEN_ID})`);
    }
    const bytes = byteLevelToBytes(text);
    if (bytes === undefined) {
      fail(
        `model.vocab key`,
        text,
        "a string in GPT-2's byte-level alphabet (is the ByteLevel pre-tokenizer missing?)",
      );
    }
    if (tokens[id] !== undefined) fail(`model.vocab[${JSON.stringify(text)}]`, id, 'a unique id');
    while (tokens.length < id) tokens.push(undefined);
    tokens[id] = bytes;
    idOf.set(text, id);
  }

  const rawMerges = model['merges'];
  if (!Array.isArray(rawMerges)) fail('model.merges', rawMerges, 'an array');
  const merges = rawMerges.map((entry: unknown, i): [number, number] => {
    let pair: unknown[];
    if (typeof entry === 'string') pair = entry.split(' ');
    else if (Array.isArray(entry)) pair = entry;
    else fail(`model.merges[${i}]`, entry, 'a string "a b" or an array ["a", "b"]');
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      fail(`model.merges[${i}]`, entry, 'two token strings');
    }
    const ids = pair.map((t) => idOf.get(t as string));
    if (ids[0] === undefined || ids[1] === undefined) {
      const missing = ids[0] === undefined ? pair[0] : pair[1];
      fail(`model.merges[${i}]`, entry, `tokens of model.vocab (${describe(missing)} is not one)`);
    }
    return [ids[0], ids[1]];
  });

  const specialTokens: Record<string, number> = {};
  const added = root['added_tokens'] ?? [];
  if (!Array.isArray(added)) fail('added_tokens', added, 'an array');
  added.forEach((t: unknown, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string' || typeof t['id'] !== 'number') {
      fail(`added_tokens[${i}]`, t, 'an object with string content and numeric id');
    }
    for (const flag of ['lstrip', 'rstrip', 'single_word']) {
      if (t[flag] === true) fail(`added_tokens[${i}].${flag}`, true, 'false');
    }
    specialTokens[t['content']] = t['id'];
  });

  const pre = readPreTokenizer(root['pre_tokenizer']);
  const post = readPostProcessor(root['post_processor']);
  return new ByteLevelBpe({
    tokens,
    merges,
    ignoreMerges: model['ignore_merges'] === true,
    patterns: pre.patterns,
    addPrefixSpace: pre.addPrefixSpace,
    specialTokens,
    allowedSpecial: options.allowedSpecial ?? 'all',
    bosToken: options.bosToken ?? post.bosToken,
    eosToken: options.eosToken ?? post.eosToken,
    addBos: options.addBos ?? post.bosToken !== undefined,
    addEos: options.addEos ?? post.eosToken !== undefined,
    ...(options.loneSurrogates !== undefined ? { loneSurrogates: options.loneSurrogates } : {}),
    ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
  });
}

function checkDecoder(decoder: unknown): void {
  if (isNullish(decoder)) return;
  if (isObject(decoder) && decoder['type'] === 'ByteLevel') return;
  if (isObject(decoder) && decoder['type'] === 'Sequence' && Array.isArray(decoder['decoders'])) {
    decoder['decoders'].forEach((d: unknown, i) => {
      if (!isObject(d) || d['type'] !== 'ByteLevel') {
        fail(`decoder.decoders[${i}]`, d, 'a ByteLevel decoder');
      }
    });
    return;
  }
  fail('decoder', decoder, 'null or a ByteLevel decoder');
}

function readPreTokenizer(pre: unknown): { patterns: string[]; addPrefixSpace: boolean } {
  const expected = 'ByteLevel, or a Sequence of Split (Regex, Isolated) steps ending in ByteLevel';
  if (!isObject(pre)) fail('pre_tokenizer', pre, expected);
  const steps: unknown[] =
    pre['type'] === 'Sequence' && Array.isArray(pre['pretokenizers'])
      ? pre['pretokenizers']
      : [pre];
  const patterns: string[] = [];
  let addPrefixSpace = false;
  steps.forEach((step, i) => {
    const where = steps.length === 1 ? 'pre_tokenizer' : `pre_tokenizer.pretokenizers[${i}]`;
    if (!isObject(step)) fail(where, step, expected);
    const last = i === steps.length - 1;
    if (step['type'] === 'ByteLevel' && last) {
      addPrefixSpace = step['add_prefix_space'] === true;
      if (step['use_regex'] !== false) patterns.push(GPT2_PATTERN);
    } else if (step['type'] === 'Split' && !last) {
      if (step['behavior'] !== 'Isolated')
        fail(`${where}.behavior`, step['behavior'], '"Isolated"');
      if (step['invert'] === true) fail(`${where}.invert`, true, 'false');
      const pattern = step['pattern'];
      if (isObject(pattern) && typeof pattern['Regex'] === 'string')
        patterns.push(pattern['Regex']);
      else if (isObject(pattern) && typeof pattern['String'] === 'string') {
        patterns.push(pattern['String'].replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
      } else fail(`${where}.pattern`, pattern, '{ "Regex": string } or { "String": string }');
    } else {
      fail(where, step, expected);
    }
  });
  return { patterns, addPrefixSpace };
}

interface PostProcessing {
  bosToken?: string;
  eosToken?: string;
}

function readPostProcessor(post: unknown): PostProcessing {
  if (isNullish(post)) return {};
  const expected = 'null, ByteLevel, TemplateProcessing, or a Sequence of those';
  if (!isObject(post)) fail('post_processor', post, expected);
  if (post['type'] === 'ByteLevel') return {};
  if (post['type'] === 'Sequence' && Array.isArray(post['processors'])) {
    const result: PostProcessing = {};
    for (const p of post['processors'] as unknown[]) Object.assign(result, readPostProcessor(p));
    return result;
  }
  if (post['type'] !== 'TemplateProcessing') fail('post_processor', post, expected);
  const single = post['single'];
  if (!Array.isArray(single)) fail('post_processor.single', single, 'an array of template pieces');
  const before: string[] = [];
  const after: string[] = [];
  let seenSequence = false;
  for (const piece of single as unknown[]) {
    if (isObject(piece) && isObject(piece['Sequence'])) seenSequence = true;
    else if (isObject(piece) && isObject(piece['SpecialToken'])) {
      const id = piece['SpecialToken']['id'];
      if (typeof id !== 'string') fail('post_processor.single SpecialToken.id', id, 'a string');
      (seenSequence ? after : before).push(id);
    } else fail('post_processor.single entry', piece, '{ Sequence } or { SpecialToken }');
  }
  if (!seenSequence || before.length > 1 || after.length > 1) {
    fail('post_processor.single', single, 'at most one special token before and after $A');
  }
  const result: PostProcessing = {};
  if (before[0] !== undefined) result.bosToken = before[0];
  if (after[0] !== undefined) result.eosToken = after[0];
  return result;
}

/**
 * Derives a Hugging Face merge list from tiktoken ranks, as Hugging Face's tiktoken converter
 * does: each token's merge is the last step of BPE on its own bytes using only lower ranks.
 *
 * @param tokens - token bytes indexed by rank (all 256 single bytes present)
 * @throws Error naming a token that lower ranks cannot build from two parts
 */
export function mergesFromRanks(tokens: ReadonlyArray<Uint8Array | undefined>): [number, number][] {
  const keys = tokens.map((t) => (t === undefined ? undefined : bytesKey(t)));
  const keyToId = new Map<string, number>();
  keys.forEach((k, id) => {
    if (k !== undefined) keyToId.set(k, id);
  });
  const byteToId = new Int32Array(256);
  for (let b = 0; b < 256; b++) byteToId[b] = keyToId.get(String.fromCharCode(b)) ?? -1;
  const full = mergeTableFromRanks(keys, keyToId);
  const order = tokens
    .map((t, id) => ({ t, id }))
    .filter((e): e is { t: Uint8Array; id: number } => e.t !== undefined && e.t.length > 1);
  // Adding merges in rank order means the table holds exactly the ranks below the current token.
  const table = new Map<number, number>();
  const byMerged = new Map<number, [number, number][]>();
  for (const [pair, value] of full) {
    const merged = value % MAX_TOKEN_ID;
    const list = byMerged.get(merged) ?? [];
    list.push([pair, value]);
    byMerged.set(merged, list);
  }
  const merges: [number, number][] = [];
  order.sort((a, b) => a.id - b.id);
  for (const { t, id } of order) {
    const parts: number[] = [];
    scanMerge(t, t.length, byteToId, table, parts);
    if (parts.length !== 2) {
      throw new Error(
        `mergesFromRanks: token ${id} (${JSON.stringify(bytesToByteLevel(t))}) does not split into two lower-ranked tokens`,
      );
    }
    merges.push([parts[0]!, parts[1]!]);
    for (const [pair, value] of byMerged.get(id) ?? []) table.set(pair, value);
  }
  return merges;
}

/**
 * Writes a tokenizer as a Hugging Face `tokenizer.json` object (pass it to `JSON.stringify`).
 * A tokenizer with tiktoken semantics gets its merges from {@link mergesFromRanks} and
 * `ignore_merges: true`, which is how Hugging Face represents tiktoken vocabularies.
 * The lone-surrogate mode is not part of the format.
 */
export function toHuggingFaceJson(tokenizer: ByteLevelBpe): Record<string, unknown> {
  const config = tokenizer.toConfig();
  const vocab: Record<string, number> = {};
  config.tokens.forEach((bytes, id) => {
    if (bytes !== undefined) vocab[bytesToByteLevel(bytes)] = id;
  });
  const names = (id: number): string => bytesToByteLevel(config.tokens[id]!);
  const merges = (config.merges ?? mergesFromRanks(config.tokens)).map(
    ([a, b]): [string, string] => [names(a), names(b)],
  );
  const patterns = config.patterns ?? [GPT2_PATTERN];
  const gpt2Only = patterns.length === 1 && patterns[0] === GPT2_PATTERN;
  const byteLevel = (useRegex: boolean) => ({
    type: 'ByteLevel',
    add_prefix_space: config.addPrefixSpace === true,
    trim_offsets: true,
    use_regex: useRegex,
  });
  const preTokenizer = gpt2Only
    ? byteLevel(true)
    : {
        type: 'Sequence',
        pretokenizers: [
          ...patterns.map((p) => ({
            type: 'Split',
            pattern: { Regex: p },
            behavior: 'Isolated',
            invert: false,
          })),
          byteLevel(false),
        ],
      };
  const addedTokens = [...tokenizer.specialTokens].map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  addedTokens.sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessorFor(config),
    decoder: byteLevel(true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: config.merges === undefined ? true : config.ignoreMerges === true,
      vocab,
      merges,
    },
  };
}

function postProcessorFor(config: ByteLevelBpeConfig): Record<string, unknown> | null {
  const bos = config.addBos === true ? config.bosToken : undefined;
  const eos = config.addEos === true ? config.eosToken : undefined;
  if (bos === undefined && eos === undefined) return null;
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const seq = (id: string) => ({ Sequence: { id, type_id: 0 } });
  const wrap = (inner: object[]) => [
    ...(bos !== undefined ? [special(bos)] : []),
    ...inner,
    ...(eos !== undefined ? [special(eos)] : []),
  ];
  const specialTokens: Record<string, unknown> = {};
  for (const t of [bos, eos]) {
    if (t === undefined) continue;
    const id = config.specialTokens?.[t];
    specialTokens[t] = { id: t, ids: id === undefined ? [] : [id], tokens: [t] };
  }
  return {
    type: 'TemplateProcessing',
    single: wrap([seq('A')]),
    pair: [...wrap([seq('A')]), ...wrap([seq('B')])],
    special_tokens: specialTokens,
  };
}
