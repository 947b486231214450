/** Perplexity, bits per byte and the per-position loss curve of scored token sequences. */
import type { ByteLevelBpe } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import { type SlidingWindowOptions, slidingWindowNll } from './sliding-perplexity.js';

/** What `fathom-eval perplexity` reports. */
export interface PerplexityReport {
  /** exp(mean NLL) over scored tokens. */
  perplexity: number;
  /** Mean NLL per scored token, nats. */
  meanNll: number;
  /** Tokens scored. */
  tokens: number;
  /** UTF-8 bytes of the scored tokens (special tokens count 0). */
  bytes: number;
  /** Total NLL in bits divided by bytes. */
  bitsPerByte: number;
  /** Sequences scored. */
  sequences: number;
  /** Window length and stride. */
  context: number;
  stride: number;
  /** Mean NLL of the tokens scored at each position inside their window (index = position). */
  positionLoss: number[];
}

/**
 * Scores each sequence with sliding windows and pools the losses.
 *
 * @param model - the model (eval mode).
 * @param tokenizer - gives each scored token's byte length for bits per byte.
 * @param sequences - token sequences (documents, or one long stream).
 * @param options - window length, stride, batching.
 */
export async function perplexityOf(
  model: CausalLm,
  tokenizer: ByteLevelBpe,
  sequences: readonly (readonly number[])[],
  options: SlidingWindowOptions = {},
): Promise<PerplexityReport> {
  let total = 0;
  let tokens = 0;
  let bytes = 0;
  let context = 0;
  let stride = 0;
  const positionSum: number[] = [];
  const positionCount: number[] = [];
  const byteLength = new Map<number, number>();
  for (const ids of sequences) {
    if (ids.length < 2) continue;
    const r = await slidingWindowNll(model, ids, options);
    context = r.context;
    stride = r.stride;
    total += r.totalNll;
    tokens += r.scored;
    r.nll.forEach((v, p) => {
      if (Number.isNaN(v)) return;
      const id = ids[p]!;
      let n = byteLength.get(id);
      if (n === undefined) {
        n = tokenizer.decodeBytes([id], { skipSpecialTokens: true }).length;
        byteLength.set(id, n);
      }
      bytes += n;
      const w = r.windowPosition[p]!;
      positionSum[w] = (positionSum[w] ?? 0) + v;
      positionCount[w] = (positionCount[w] ?? 0) + 1;
    });
  }
  if (tokens === 0)
    throw new RangeError(
      'perplexity: no token could be scored; expected at least 2 tokens of data',
    );
  const meanNll = total / tokens;
  const positionLoss: number[] = [];
  for (let w = 0; w < positionSum.length; w++) {
    const c = positionCount[w] ?? 0;
    positionLoss.push(c === 0 ? Number.NaN : positionSum[w]! / c);
  }
  return {
    perplexity: Math.exp(meanNll),
    meanNll,
    tokens,
    bytes,
    bitsPerByte: bytes === 0 ? Number.NaN : total / Math.LN2 / bytes,
    sequences: sequences.length,
    context,
    stride,
    positionLoss,
  };
}
