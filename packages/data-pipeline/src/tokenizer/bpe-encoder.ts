// ByteLevelBpe: a byte-level BPE tokenizer (GPT-2, cl100k, LLaMA-3 style). Text is split at
// special tokens, pre-tokenised with a regex, each piece is turned into bytes (see wtf8.ts) and
// merged by rank; results are cached per piece, since natural text repeats pieces constantly.

import { bytePairMerge } from './bpe-merge.js';
import {
  LazyRankMergeTable,
  MAX_TOKEN_ID,
  bytesKey,
  mergeTableFromList,
  type MergeTable,
} from './merge-table.js';
import { GPT2_PATTERN } from './pattern.js';
import { Pretokenizer } from './pretokenize.js';
import { SpecialTokenMatcher, type SpecialTokenPolicy } from './special-tokens.js';
import { decodeWtf8, encodeWtf8Into, type LoneSurrogateMode } from './wtf8.js';

/** Everything that defines a {@link ByteLevelBpe}; loaders and the trainer produce one. */
export interface ByteLevelBpeConfig {
  /**
   * Bytes of each ordinary token, indexed by id; `undefined` marks an unused id. All 256
   * single-byte tokens must be present.
   */
  readonly tokens: ReadonlyArray<Uint8Array | undefined>;
  /**
   * Merge rules as pairs of token ids, highest priority first (Hugging Face semantics: only these
   * pairs merge). Omit for tiktoken semantics: any two adjacent tokens whose concatenation is a
   * token merge, lower id first.
   */
  readonly merges?: ReadonlyArray<readonly [number, number]>;
  /**
   * Emit a piece that is itself a token directly, without running merges. Defaults to `true`
   * without `merges` (tiktoken does this) and `false` with them (Hugging Face's `ignore_merges`).
   */
  readonly ignoreMerges?: boolean;
  /**
   * Pre-tokenisation regexes in tiktoken / Hugging Face syntax, applied in sequence (see
   * {@link Pretokenizer}). Defaults to `[GPT2_PATTERN]`.
   */
  readonly patterns?: readonly string[];
  /** Special tokens: string -> id. Ids may coincide with an ordinary token of the same bytes. */
  readonly specialTokens?: Readonly<Record<string, number>>;
  /** Special tokens recognised in text when `encode` is not told otherwise. Default `'none'`. */
  readonly allowedSpecial?: SpecialTokenPolicy;
  /** The beginning-of-sequence token string (must be a special token or an ordinary token). */
  readonly bosToken?: string;
  /** The end-of-sequence token string (must be a special token or an ordinary token). */
  readonly eosToken?: string;
  /** Prepend the BOS token by default. Default `false`. */
  readonly addBos?: boolean;
  /** Append the EOS token by default. Default `false`. */
  readonly addEos?: boolean;
  /** Prefix each text segment with a space unless it starts with one (HF `add_prefix_space`). */
  readonly addPrefixSpace?: boolean;
  /** How lone surrogates become bytes; see {@link LoneSurrogateMode}. Default `'wtf8'`. */
  readonly loneSurrogates?: LoneSurrogateMode;
  /** Pieces kept in the encode cache before it is cleared. Default 65536; 0 disables it. */
  readonly cacheSize?: number;
}

/** Per-call options of {@link ByteLevelBpe.encode}. */
export interface EncodeOptions {
  /** Special tokens recognised in the text; defaults to the tokenizer's `allowedSpecial`. */
  readonly allowedSpecial?: SpecialTokenPolicy;
  /** Prepend the BOS token; defaults to the tokenizer's `addBos`. */
  readonly addBos?: boolean;
  /** Append the EOS token; defaults to the tokenizer's `addEos`. */
  readonly addEos?: boolean;
}

/** Per-call options of {@link ByteLevelBpe.decode}. */
export interface DecodeOptions {
  /** Leave special tokens out of the text. Default `false`. */
  readonly skipSpecialTokens?: boolean;
}

/**
 * A byte-level BPE tokenizer. Build one with a loader ({@link loadTokenizer},
 * {@link fromHuggingFaceJson}, {@link fromTiktokenRanks}), the trainer
 * ({@link trainByteLevelBpe}), or directly from a {@link ByteLevelBpeConfig}.
 *
 * `decode(encode(s)) === s` for every string `s` in the default `'wtf8'` lone-surrogate mode.
 */
export class ByteLevelBpe {
  /** The pre-tokeniser in use. */
  readonly pretokenizer: Pretokenizer;
  /** One more than the largest id (ordinary or special). */
  readonly vocabSize: number;
  /** Special token string -> id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** Id of the BOS token, if the tokenizer has one. */
  readonly bosId: number | undefined;
  /** Id of the EOS token, if the tokenizer has one. */
  readonly eosId: number | undefined;

  private readonly config: ByteLevelBpeConfig;
  private readonly tokenBytes: ReadonlyArray<Uint8Array | undefined>;
  private readonly keyToId: Map<string, number>;
  private readonly byteToId: Int32Array;
  private readonly table: MergeTable;
  private readonly ignoreMerges: boolean;
  private readonly surrogates: LoneSurrogateMode;
  private readonly specialById: Map<number, Uint8Array>;
  private readonly matchers = new Map<string, SpecialTokenMatcher>();
  private readonly cache = new Map<string, number | number[]>();
  private readonly cacheSize: number;
  private buffer = new Uint8Array(1024);

  constructor(config: ByteLevelBpeConfig) {
    this.config = { ...config };
    const { tokens } = config;
    if (!Array.isArray(tokens)) {
      throw new Error(`ByteLevelBpe: config.tokens must be an array of Uint8Array | undefined`);
    }
    if (tokens.length > MAX_TOKEN_ID) {
      throw new Error(
        `ByteLevelBpe: config.tokens has ${tokens.length} entries; at most ${MAX_TOKEN_ID} are supported`,
      );
    }
    this.tokenBytes = tokens;
    const keys: (string | undefined)[] = new Array<string | undefined>(tokens.length);
    this.keyToId = new Map();
    for (let id = 0; id < tokens.length; id++) {
      const bytes = tokens[id];
      if (bytes === undefined) continue;
      if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
        throw new Error(`ByteLevelBpe: config.tokens[${id}] must be a non-empty Uint8Array`);
      }
      const key = bytesKey(bytes);
      const existing = this.keyToId.get(key);
      if (existing !== undefined) {
        throw new Error(
          `ByteLevelBpe: config.tokens[${id}] has the same bytes as config.tokens[${existing}]`,
        );
      }
      keys[id] = key;
      this.keyToId.set(key, id);
    }
    this.byteToId = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = this.keyToId.get(String.fromCharCode(b));
      if (id === undefined) {
        throw new Error(
          `ByteLevelBpe: config.tokens has no single-byte token for byte 0x${b.toString(16).padStart(2, '0')}; ` +
            `a byte-level BPE needs all 256`,
        );
      }
      this.byteToId[b] = id;
    }
    const specials = new Map<string, number>();
    this.specialById = new Map();
    const encoder = new TextEncoder();
    let maxId = tokens.length - 1;
    for (const [text, id] of Object.entries(config.specialTokens ?? {})) {
      if (!Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
        throw new Error(
          `ByteLevelBpe: config.specialTokens[${JSON.stringify(text)}] is ${id}; expected an integer id in [0, ${MAX_TOKEN_ID})`,
        );
      }
      if (text.length === 0) throw new Error(`ByteLevelBpe: config.specialTokens has an empty key`);
      const bytes = encoder.encode(text);
      const ordinary = tokens[id];
      if (ordinary !== undefined && bytesKey(ordinary) !== bytesKey(bytes)) {
        throw new Error(
          `ByteLevelBpe: config.specialTokens[${JSON.stringify(text)}] is id ${id}, which is an ordinary token with different bytes`,
        );
      }
      specials.set(text, id);
      this.specialById.set(id, bytes);
      maxId = Math.max(maxId, id);
    }
    this.ignoreMerges = config.ignoreMerges ?? config.merges === undefined;
    this.pretokenizer = new Pretokenizer(config.patterns ?? [GPT2_PATTERN]);
    this.surrogates = config.loneSurrogates ?? 'wtf8';
    if (this.surrogates !== 'wtf8' && this.surrogates !== 'replace') {
      throw new Error(
        `ByteLevelBpe: config.loneSurrogates is ${JSON.stringify(this.surrogates)}; expected 'wtf8' or 'replace'`,
      );
    }
    this.cacheSize = config.cacheSize ?? 65536;
    this.table =
      config.merges === undefined
        ? new LazyRankMergeTable(keys, this.keyToId)
        : mergeTableFromList(config.merges, keys, this.keyToId);

    this.specialTokens = specials;
    this.vocabSize = maxId + 1;
    this.bosId = this.resolveMarker('bosToken', config.bosToken);
    this.eosId = this.resolveMarker('eosToken', config.eosToken);
    this.matcherFor(config.allowedSpecial ?? 'none', 'config.allowedSpecial');
  }

  private resolveMarker(name: string, token: string | undefined): number | undefined {
    if (token === undefined) return undefined;
    const id =
      this.specialTokens.get(token) ?? this.keyToId.get(bytesKey(new TextEncoder().encode(token)));
    if (id === undefined) {
      throw new Error(
        `ByteLevelBpe: config.${name} ${JSON.stringify(token)} is neither a special token nor a single ordinary token`,
      );
    }
    return id;
  }

  private matcherFor(policy: SpecialTokenPolicy, argName: string): SpecialTokenMatcher {
    let list: readonly string[];
    if (policy === 'all') list = [...this.specialTokens.keys()];
    else if (policy === 'none') list = [];
    else if (Array.isArray(policy)) {
      for (const t of policy) {
        if (!this.specialTokens.has(t)) {
          throw new Error(
            `${argName} lists ${JSON.stringify(t)}, which is not a special token of this tokenizer`,
          );
        }
      }
      list = policy;
    } else {
      throw new Error(
        `${argName} is ${JSON.stringify(policy)}; expected 'all', 'none' or an array of special token strings`,
      );
    }
    const key = JSON.stringify([...list].sort());
    let matcher = this.matchers.get(key);
    if (matcher === undefined) {
      matcher = new SpecialTokenMatcher(list);
      this.matchers.set(key, matcher);
    }
    return matcher;
  }

  /** A copy of the configuration this tokenizer was built from (used by the writers). */
  toConfig(): ByteLevelBpeConfig {
    return { ...this.config };
  }

  /** The bytes of token `id` (ordinary or special), or `undefined` if `id` is unused. */
  tokenToBytes(id: number): Uint8Array | undefined {
    return this.tokenBytes[id] ?? this.specialById.get(id);
  }

  /** The id of the ordinary token with exactly these bytes, if there is one. */
  bytesToToken(bytes: Uint8Array): number | undefined {
    return this.keyToId.get(bytesKey(bytes));
  }

  /**
   * Encodes text to token ids.
   *
   * @param text - any JavaScript string, including ones with lone surrogates
   * @param options - special-token recognition and BOS/EOS; defaults come from the config
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new Error(`ByteLevelBpe.encode: text must be a string; got ${typeof text}`);
    }
    const out: number[] = [];
    this.encodeInto(text, options, out);
    return out;
  }

  /** Encodes each text; the same as mapping {@link ByteLevelBpe.encode}, sharing one cache. */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    if (!Array.isArray(texts)) {
      throw new Error(`ByteLevelBpe.encodeBatch: texts must be an array of strings`);
    }
    return texts.map((text, i) => {
      if (typeof text !== 'string') {
        throw new Error(
          `ByteLevelBpe.encodeBatch: texts[${i}] must be a string; got ${typeof text}`,
        );
      }
      const out: number[] = [];
      this.encodeInto(text, options, out);
      return out;
    });
  }

  private encodeInto(text: string, options: EncodeOptions, out: number[]): void {
    const addBos = options.addBos ?? this.config.addBos ?? false;
    const addEos = options.addEos ?? this.config.addEos ?? false;
    if (addBos) out.push(this.marker('addBos', this.bosId));
    const matcher = this.matcherFor(
      options.allowedSpecial ?? this.config.allowedSpecial ?? 'none',
      'ByteLevelBpe.encode: options.allowedSpecial',
    );
    const emitPiece = (piece: string) => this.encodePiece(piece, out);
    const prefixSpace = this.config.addPrefixSpace === true;
    matcher.scan(
      text,
      (segment) =>
        this.pretokenizer.split(
          prefixSpace && !segment.startsWith(' ') ? ' ' + segment : segment,
          emitPiece,
        ),
      (special) => out.push(this.specialTokens.get(special)!),
    );
    if (addEos) out.push(this.marker('addEos', this.eosId));
  }

  private marker(option: string, id: number | undefined): number {
    if (id === undefined) {
      throw new Error(
        `ByteLevelBpe.encode: ${option} is set but the tokenizer has no ${option === 'addBos' ? 'bosToken' : 'eosToken'}`,
      );
    }
    return id;
  }

  private encodePiece(piece: string, out: number[]): void {
    const cached = this.cache.get(piece);
    if (cached !== undefined) {
      if (typeof cached === 'number') out.push(cached);
      else for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
      return;
    }
    if (this.buffer.length < piece.length * 3) this.buffer = new Uint8Array(piece.length * 6);
    const length = encodeWtf8Into(piece, 0, piece.length, this.buffer, this.surrogates);
    let result: number | number[] | undefined;
    if (this.ignoreMerges || length === 1) {
      // ASCII pieces are their own Latin-1 key.
      result = this.keyToId.get(length === piece.length ? piece : bytesKey(this.buffer, length));
    }
    if (result === undefined) {
      const ids: number[] = [];
      bytePairMerge(this.buffer, length, this.byteToId, this.table, ids);
      result = ids.length === 1 ? ids[0]! : ids;
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(piece, result);
    }
    if (typeof result === 'number') out.push(result);
    else for (let i = 0; i < result.length; i++) out.push(result[i]!);
  }

  /**
   * The bytes that `ids` stand for, concatenated.
   *
   * @throws Error naming the position of an id that is not in the vocabulary
   */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const special = this.specialById.get(id);
      if (special !== undefined && options.skipSpecialTokens === true) continue;
      const bytes = special ?? this.tokenBytes[id];
      if (bytes === undefined) {
        throw new Error(
          `ByteLevelBpe.decode: ids[${i}] is ${id}, which is not a token id (vocabulary size ${this.vocabSize})`,
        );
      }
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Decodes ids to text; lone surrogates come back in `'wtf8'` mode (see {@link decodeWtf8}). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return decodeWtf8(this.decodeBytes(ids, options), this.surrogates);
  }
}
