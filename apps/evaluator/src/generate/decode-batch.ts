/**
 * Autoregressive decoding of several sequences at once. The prompts of one batch have the same
 * token length (the model has no padding mask, so equal lengths keep every row's positions and
 * attention exact); each row has its own sampling parameters, seed, stop strings and limit. Rows
 * that finish leave the batch, and their rows leave the KV cache.
 */
import { type ByteLevelBpe, Xoshiro128 } from '@fathom/data-pipeline';
import { type CausalLm, KvCache } from '@fathom/nn-layers';
import { fromArray, indexSelect, keep } from '@fathom/tensor-core';
import { lastLogits, modelDevice } from '../model/model-device.js';
import { type SamplingOptions, sampleToken, validateSampling } from './sampling.js';
import { StopStringFilter } from './stop-strings.js';
import { Utf8StreamDecoder } from './utf8-stream.js';

/** Why a sequence ended. */
export type FinishReason = 'length' | 'stop' | 'eos' | 'cancelled';

/** One sequence to decode. */
export interface DecodeRequest extends SamplingOptions {
  /** Prompt token ids (at least one). */
  prompt: readonly number[];
  /** Most tokens to generate (at least 1). */
  maxTokens: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop?: readonly string[];
  /** Seed of the sampling stream (default 0). */
  seed?: number;
  /** End at the tokenizer's end-of-text token (default true). */
  stopOnEos?: boolean;
  /** Receives text as soon as it is complete (UTF-8 characters are never split). */
  onText?: (text: string) => void;
  /** Polled before each step; true ends this sequence with reason `cancelled`. */
  isCancelled?: () => boolean;
}

/** The outcome of one sequence. */
export interface DecodeResult {
  /** Generated token ids (an end-of-text token that ended generation is not included). */
  tokens: number[];
  /** Generated text, without a stop string that ended it. */
  text: string;
  finishReason: FinishReason;
}

/** Options of {@link decodeBatch}. */
export interface DecodeBatchOptions {
  /** Use the KV cache (default true); false recomputes every position each step (the reference). */
  useCache?: boolean;
}

interface RowState {
  request: DecodeRequest;
  sequence: number[];
  generated: number[];
  text: string;
  rng: Xoshiro128;
  utf8: Utf8StreamDecoder;
  stops: StopStringFilter | null;
  finish: FinishReason | null;
}

function checkRequests(model: CausalLm, requests: readonly DecodeRequest[]): void {
  if (requests.length === 0) throw new RangeError('decodeBatch: requests is empty');
  const length = requests[0]!.prompt.length;
  const context = model.config.maxPositionEmbeddings;
  requests.forEach((r, i) => {
    const where = `decodeBatch: requests[${i}]`;
    if (r.prompt.length === 0)
      throw new RangeError(`${where}.prompt is empty; expected >= 1 token`);
    if (r.prompt.length !== length)
      throw new RangeError(
        `${where}.prompt has ${r.prompt.length} tokens; expected ${length} (a batch holds prompts of one length)`,
      );
    if (!Number.isInteger(r.maxTokens) || r.maxTokens < 1)
      throw new RangeError(`${where}.maxTokens is ${r.maxTokens}; expected an integer >= 1`);
    if (length + r.maxTokens > context)
      throw new RangeError(
        `${where}: prompt (${length} tokens) + maxTokens (${r.maxTokens}) exceed the model's context of ${context} positions`,
      );
    for (const id of r.prompt)
      if (!Number.isInteger(id) || id < 0 || id >= model.config.vocabSize)
        throw new RangeError(
          `${where}.prompt holds token ${id}; expected ids in [0, ${model.config.vocabSize})`,
        );
    validateSampling(r, where);
  });
}

/**
 * Decodes every request to completion and returns their results in order.
 *
 * @param model - the model (eval mode).
 * @param tokenizer - turns token ids back into text and names the end-of-text token.
 * @param requests - sequences whose prompts all have the same length.
 */
export async function decodeBatch(
  model: CausalLm,
  tokenizer: ByteLevelBpe,
  requests: readonly DecodeRequest[],
  options: DecodeBatchOptions = {},
): Promise<DecodeResult[]> {
  checkRequests(model, requests);
  const useCache = options.useCache ?? true;
  const eos = tokenizer.eosId;
  const rows: RowState[] = requests.map((request) => ({
    request,
    sequence: [...request.prompt],
    generated: [],
    text: '',
    rng: new Xoshiro128(request.seed ?? 0),
    utf8: new Utf8StreamDecoder(),
    stops: request.stop && request.stop.length > 0 ? new StopStringFilter(request.stop) : null,
    finish: null,
  }));
  const emit = (row: RowState, text: string): void => {
    if (text.length === 0) return;
    row.text += text;
    row.request.onText?.(text);
  };
  const end = (row: RowState, reason: FinishReason): void => {
    row.finish = reason;
    if (reason === 'length' || reason === 'eos') {
      const rest = row.utf8.flush();
      emit(row, row.stops ? row.stops.push(rest) + row.stops.flush() : rest);
    }
  };
  const cache = useCache ? new KvCache(model.config.numLayers) : undefined;
  let active = rows.slice();
  try {
    let input: number[][] = active.map((r) => r.sequence);
    while (active.length > 0) {
      const logits = await lastLogits(model, input, cache);
      const vocab = logits.length / active.length;
      for (const [b, row] of active.entries()) {
        const token = sampleToken(
          logits.subarray(b * vocab, (b + 1) * vocab),
          row.sequence,
          row.request,
          row.rng,
        );
        row.sequence.push(token);
        if (eos !== undefined && token === eos && (row.request.stopOnEos ?? true)) {
          end(row, 'eos');
          continue;
        }
        row.generated.push(token);
        const text = row.utf8.push(tokenizer.decodeBytes([token]));
        emit(row, row.stops ? row.stops.push(text) : text);
        if (row.stops?.done) end(row, 'stop');
        else if (row.generated.length >= row.request.maxTokens) end(row, 'length');
        else if (row.request.isCancelled?.()) end(row, 'cancelled');
      }
      const keepRows = active.flatMap((r, i) => (r.finish === null ? [i] : []));
      if (cache && keepRows.length > 0 && keepRows.length < active.length) {
        const index = fromArray(keepRows, [keepRows.length], {
          device: modelDevice(model),
          dtype: 'i32',
        });
        for (const layer of cache.layers) {
          const k = keep(indexSelect(layer.k!, 0, index));
          const v = keep(indexSelect(layer.v!, 0, index));
          layer.dispose();
          layer.k = k;
          layer.v = v;
        }
        index.dispose();
      }
      active = keepRows.map((i) => active[i]!);
      input = active.map((r) => (cache ? [r.sequence[r.sequence.length - 1]!] : r.sequence));
    }
  } finally {
    cache?.dispose();
  }
  return rows.map((r) => ({ tokens: r.generated, text: r.text, finishReason: r.finish! }));
}
