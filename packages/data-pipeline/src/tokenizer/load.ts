// One entry point that recognises the supported tokenizer formats and says clearly what it found
// when the input is none of them.

import type { ByteLevelBpe } from './bpe-encoder.js';
import { fromHuggingFaceJson, type HuggingFaceLoadOptions } from './hf-tokenizer-json.js';
import { fromJsTiktokenBundle, fromTiktokenRanks, type TiktokenOptions } from './tiktoken-ranks.js';

/** Options of {@link loadTokenizer}; which apply depends on the detected format. */
export type LoadTokenizerOptions = HuggingFaceLoadOptions & TiktokenOptions;

const SUPPORTED =
  'a Hugging Face tokenizer.json (model.type "BPE", byte-level), ' +
  'a tiktoken rank file ("<base64> <rank>" per line), ' +
  'or a js-tiktoken bundle ({ pat_str, special_tokens, bpe_ranks })';

/**
 * Loads a tokenizer from any supported format, detected from the content:
 * a Hugging Face `tokenizer.json` (text, bytes or parsed object), a tiktoken rank file (text or
 * bytes; `options.patterns` is required because the file does not record it, see
 * {@link R50K_BASE} and {@link CL100K_BASE}), or a js-tiktoken bundle object.
 *
 * @throws Error describing what was found and listing the supported formats
 */
export function loadTokenizer(
  source: string | Uint8Array | object,
  options: LoadTokenizerOptions = {},
): ByteLevelBpe {
  let value: unknown = source;
  if (value instanceof Uint8Array) value = new TextDecoder('utf-8').decode(value);
  if (typeof value === 'string') {
    const text = value.replace(/^\uFEFF/, '');
    const start = text.trimStart();
    if (start.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Error(
          `loadTokenizer: source starts with '{' but is not valid JSON (${(err as Error).message}); expected ${SUPPORTED}`,
          { cause: err },
        );
      }
      return loadObject(parsed, options);
    }
    const firstLine = start.slice(0, start.indexOf('\n') >>> 0).trimEnd();
    if (/^[A-Za-z0-9+/]+={0,2} \d+$/.test(firstLine)) {
      if (options.patterns === undefined) {
        throw new Error(
          `loadTokenizer: source is a tiktoken rank file, which does not record its pre-tokenisation ` +
            `pattern; pass options.patterns (e.g. R50K_BASE or CL100K_BASE spread into the options)`,
        );
      }
      return fromTiktokenRanks(text, options);
    }
    throw new Error(
      `loadTokenizer: source is text starting with ${JSON.stringify(start.slice(0, 40))}; expected ${SUPPORTED}`,
    );
  }
  return loadObject(value, options);
}

function loadObject(value: unknown, options: LoadTokenizerOptions): ByteLevelBpe {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `loadTokenizer: source is ${Array.isArray(value) ? 'an array' : String(value)}; expected ${SUPPORTED}`,
    );
  }
  const record = value as Record<string, unknown>;
  if ('model' in record) return fromHuggingFaceJson(record, options);
  if ('bpe_ranks' in record && 'pat_str' in record) {
    return fromJsTiktokenBundle(record as never, options);
  }
  const keys = Object.keys(record).slice(0, 8);
  throw new Error(
    `loadTokenizer: source is an object with keys [${keys.join(', ')}]; expected ${SUPPORTED}`,
  );
}
