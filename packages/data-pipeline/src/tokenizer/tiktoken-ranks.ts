// tiktoken's rank files (`r50k_base.tiktoken`, `cl100k_base.tiktoken`): one token per line,
// "<base64 bytes> <rank>". The rank is the token id and its merge priority. Pattern and special
// tokens are not in the file; they come with the options (see pattern.ts for the published ones).
// js-tiktoken ships the same ranks in a compact form ({ pat_str, special_tokens, bpe_ranks })
// where each bpe_ranks line is "<prefix> <first rank> <base64> <base64> ...".

import { base64ToBytes, bytesToBase64 } from './base64.js';
import { ByteLevelBpe, type ByteLevelBpeConfig } from './bpe-encoder.js';

/** Options for building a tokenizer from tiktoken ranks; `tokens` and `merges` come from the file. */
export type TiktokenOptions = Omit<ByteLevelBpeConfig, 'tokens' | 'merges'>;

/** js-tiktoken's bundled encoding object (as exported by `js-tiktoken/ranks/*`). */
export interface JsTiktokenBundle {
  /** The pre-tokenisation regex. */
  readonly pat_str: string;
  /** Special token string -> id. */
  readonly special_tokens: Readonly<Record<string, number>>;
  /** Ranks in js-tiktoken's compact text form. */
  readonly bpe_ranks: string;
}

const RANK_LINE = /^([A-Za-z0-9+/]+={0,2}) (\d+)$/;

/**
 * Parses a tiktoken rank file into token bytes indexed by rank.
 *
 * @param text - the file's contents
 * @throws Error naming the first malformed line
 */
export function parseTiktokenRanks(text: string): (Uint8Array | undefined)[] {
  if (typeof text !== 'string') {
    throw new Error(`parseTiktokenRanks: text must be a string; got ${typeof text}`);
  }
  const tokens: (Uint8Array | undefined)[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (line.length === 0) continue;
    const m = RANK_LINE.exec(line);
    if (m === null) {
      throw new Error(
        `parseTiktokenRanks: line ${i + 1} is ${JSON.stringify(line.slice(0, 80))}; expected "<base64 token> <rank>"`,
      );
    }
    setRank(tokens, Number(m[2]), base64ToBytes(m[1]!), `line ${i + 1}`);
  }
  return tokens;
}

function setRank(
  tokens: (Uint8Array | undefined)[],
  rank: number,
  bytes: Uint8Array,
  where: string,
): void {
  if (tokens[rank] !== undefined) {
    throw new Error(`parseTiktokenRanks: ${where} repeats rank ${rank}`);
  }
  while (tokens.length < rank) tokens.push(undefined);
  tokens[rank] = bytes;
}

/** Writes token bytes indexed by rank as a tiktoken rank file (ranks ascending, unused ids skipped). */
export function formatTiktokenRanks(tokens: ReadonlyArray<Uint8Array | undefined>): string {
  let out = '';
  for (let rank = 0; rank < tokens.length; rank++) {
    const bytes = tokens[rank];
    if (bytes === undefined) continue;
    out += `${bytesToBase64(bytes)} ${rank}\n`;
  }
  return out;
}

/**
 * Builds a tokenizer from a tiktoken rank file with tiktoken's merge semantics.
 *
 * @param text - the rank file's contents
 * @param options - pattern(s) (required), special tokens, BOS/EOS and the rest of
 *   {@link ByteLevelBpeConfig}; {@link R50K_BASE} and {@link CL100K_BASE} hold the published ones
 */
export function fromTiktokenRanks(text: string, options: TiktokenOptions): ByteLevelBpe {
  if (options?.patterns === undefined) {
    throw new Error(
      `fromTiktokenRanks: options.patterns is missing; a rank file does not record its ` +
        `pre-tokenisation pattern (pass R50K_BASE, CL100K_BASE or your own settings)`,
    );
  }
  return new ByteLevelBpe({ ...options, tokens: parseTiktokenRanks(text) });
}

/**
 * Builds a tokenizer from js-tiktoken's bundled encoding (e.g. the default export of
 * `js-tiktoken/ranks/cl100k_base`), taking its pattern and special tokens.
 */
export function fromJsTiktokenBundle(
  bundle: JsTiktokenBundle,
  options: TiktokenOptions = {},
): ByteLevelBpe {
  if (
    typeof bundle !== 'object' ||
    bundle === null ||
    typeof bundle.bpe_ranks !== 'string' ||
    typeof bundle.pat_str !== 'string'
  ) {
    throw new Error(
      `fromJsTiktokenBundle: bundle must be an object with string pat_str and bpe_ranks`,
    );
  }
  const tokens: (Uint8Array | undefined)[] = [];
  const lines = bundle.bpe_ranks.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const [, offsetText, ...encoded] = line.split(' ');
    const offset = Number(offsetText);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new Error(
        `fromJsTiktokenBundle: bpe_ranks line ${i + 1} has rank offset ${JSON.stringify(offsetText)}; expected a non-negative integer`,
      );
    }
    encoded.forEach((b64, j) =>
      setRank(tokens, offset + j, base64ToBytes(b64), `bpe_ranks line ${i + 1}`),
    );
  }
  return new ByteLevelBpe({
    patterns: [bundle.pat_str],
    specialTokens: bundle.special_tokens,
    ...options,
    tokens,
  });
}

/**
 * Writes a tokenizer that uses tiktoken semantics (no explicit merge list) as a rank file.
 *
 * @throws Error if the tokenizer has an explicit merge list, which a rank file cannot express
 */
export function toTiktokenRanks(tokenizer: ByteLevelBpe): string {
  const config = tokenizer.toConfig();
  if (config.merges !== undefined) {
    throw new Error(
      `toTiktokenRanks: tokenizer has an explicit merge list (Hugging Face semantics), which a ` +
        `tiktoken rank file cannot represent exactly; save it with toHuggingFaceJson instead`,
    );
  }
  return formatTiktokenRanks(config.tokens);
}
