/** Generating text from one prompt: {@link decodeBatch} with a batch of one, plus timings. */
import type { ByteLevelBpe } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import {
  type DecodeBatchOptions,
  type DecodeRequest,
  type DecodeResult,
  decodeBatch,
} from './decode-batch.js';

/** Options of {@link generate}: a {@link DecodeRequest} without the prompt. */
export type GenerateOptions = Omit<DecodeRequest, 'prompt'> & DecodeBatchOptions;

/** A generation and how long it took. */
export interface GenerateResult extends DecodeResult {
  /** Prompt length in tokens. */
  promptTokens: number;
  /** Wall time in milliseconds. */
  elapsedMs: number;
  /** Generated tokens per second. */
  tokensPerSecond: number;
}

/**
 * Generates a continuation of `prompt` (text, or token ids).
 *
 * @param model - the model (eval mode).
 * @param tokenizer - the model's tokenizer.
 * @param prompt - the prompt text or ids; an empty text starts from the end-of-text token.
 * @param options - sampling, limits, stop strings, seed, streaming callback.
 */
export async function generate(
  model: CausalLm,
  tokenizer: ByteLevelBpe,
  prompt: string | readonly number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const ids = typeof prompt === 'string' ? promptIds(tokenizer, prompt) : [...prompt];
  const { useCache, ...request } = options;
  const start = performance.now();
  const [result] = await decodeBatch(
    model,
    tokenizer,
    [{ ...request, prompt: ids }],
    useCache === undefined ? {} : { useCache },
  );
  const elapsedMs = performance.now() - start;
  return {
    ...result!,
    promptTokens: ids.length,
    elapsedMs,
    tokensPerSecond: result!.tokens.length / (elapsedMs / 1000),
  };
}

/**
 * Prompt text to ids; an empty prompt becomes the beginning- (or end-) of-text token, so that
 * generation can start from nothing.
 *
 * @throws RangeError when the prompt is empty and the tokenizer has no such token.
 */
export function promptIds(tokenizer: ByteLevelBpe, text: string): number[] {
  const ids = tokenizer.encode(text);
  if (ids.length > 0) return ids;
  const start = tokenizer.bosId ?? tokenizer.eosId;
  if (start === undefined)
    throw new RangeError(
      'prompt is empty and the tokenizer has no beginning- or end-of-text token to start from; give a non-empty prompt',
    );
  return [start];
}
