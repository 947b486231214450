/**
 * Log-likelihood of continuations, as lm-evaluation-harness's `loglikelihood` requests: the
 * context and context + continuation are tokenised, the continuation's tokens are what the
 * second has beyond the first, and their log-probabilities given everything before are summed.
 */
import type { ByteLevelBpe } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import { tokenNll } from '../model/model-device.js';

/** A context and a continuation, already tokenised. */
export interface LoglikelihoodRequest {
  context: number[];
  continuation: number[];
}

/** The score of one continuation. */
export interface LoglikelihoodResult {
  /** Sum of log-probabilities of the continuation's tokens (nats). */
  logprob: number;
  /** Continuation tokens scored (fewer than given only if the model's context cut them). */
  tokens: number;
}

/**
 * Tokenises a (context, continuation) pair the way lm-evaluation-harness does: trailing
 * whitespace of the context moves to the continuation, and an empty context becomes the
 * end-of-text (or beginning-of-text) token.
 */
export function encodePair(
  tokenizer: ByteLevelBpe,
  context: string,
  continuation: string,
): LoglikelihoodRequest {
  const trailing = /\s*$/.exec(context)![0];
  const ctx = context.slice(0, context.length - trailing.length);
  const cont = trailing + continuation;
  if (ctx.length === 0) {
    const start = tokenizer.bosId ?? tokenizer.eosId;
    if (start === undefined)
      throw new RangeError(
        'task: an example has an empty context and the tokenizer has no end-of-text token to stand for it',
      );
    return { context: [start], continuation: tokenizer.encode(cont) };
  }
  const whole = tokenizer.encode(ctx + cont);
  const contextIds = tokenizer.encode(ctx);
  return { context: contextIds, continuation: whole.slice(contextIds.length) };
}

/**
 * Scores requests in batches of equal input length.
 *
 * @param model - the model (eval mode).
 * @param requests - tokenised pairs; contexts are cut from the left to fit the model.
 * @param batchSize - inputs per forward pass (default 8).
 */
export async function scoreLoglikelihood(
  model: CausalLm,
  requests: readonly LoglikelihoodRequest[],
  batchSize = 8,
): Promise<LoglikelihoodResult[]> {
  const maxLen = model.config.maxPositionEmbeddings;
  const prepared = requests.map((r, i) => {
    if (r.continuation.length === 0)
      throw new RangeError(`task: request ${i} has an empty continuation; expected >= 1 token`);
    const all = [...r.context, ...r.continuation].slice(-(maxLen + 1));
    const input = all.slice(0, -1);
    const n = Math.min(r.continuation.length, input.length);
    const targets = all.slice(1).map((y, j) => (j >= input.length - n ? y : -100));
    return { index: i, input, targets, n };
  });
  const results: LoglikelihoodResult[] = new Array(requests.length);
  const byLength = new Map<number, typeof prepared>();
  for (const p of prepared) {
    const g = byLength.get(p.input.length) ?? [];
    g.push(p);
    byLength.set(p.input.length, g);
  }
  for (const group of byLength.values()) {
    for (let i = 0; i < group.length; i += batchSize) {
      const batch = group.slice(i, i + batchSize);
      const nll = await tokenNll(
        model,
        batch.map((p) => p.input),
        batch.map((p) => p.targets),
      );
      batch.forEach((p, b) => {
        let sum = 0;
        for (const v of nll[b]!) sum += v;
        results[p.index] = { logprob: -sum, tokens: p.n };
      });
    }
  }
  return results;
}
