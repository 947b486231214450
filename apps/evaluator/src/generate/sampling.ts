/**
 * Choosing the next token from a row of logits, in Hugging Face's order: repetition penalty,
 * temperature, top-k, top-p, then a draw from the softmax (or the argmax when greedy).
 */
import type { Xoshiro128 } from '@fathom/data-pipeline';

/** How to pick tokens. `temperature` 0 means greedy. */
export interface SamplingOptions {
  /** Softmax temperature; 0 picks the most likely token (default 1). */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (default 1: all). */
  topP?: number;
  /** CTRL's penalty: logits of tokens already seen are divided (if > 0) or multiplied by it (default 1: none). */
  repetitionPenalty?: number;
}

/** Checks sampling options, naming the bad field. */
export function validateSampling(o: SamplingOptions, where: string): void {
  const t = o.temperature ?? 1;
  if (!(Number.isFinite(t) && t >= 0))
    throw new RangeError(`${where}: temperature is ${t}; expected a number >= 0`);
  const k = o.topK ?? 0;
  if (!(Number.isInteger(k) && k >= 0))
    throw new RangeError(`${where}: topK is ${k}; expected an integer >= 0`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new RangeError(`${where}: topP is ${p}; expected 0 < topP <= 1`);
  const r = o.repetitionPenalty ?? 1;
  if (!(Number.isFinite(r) && r > 0))
    throw new RangeError(`${where}: repetitionPenalty is ${r}; expected a number > 0`);
}

/** Index of the largest value (the first on ties, as torch.argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Picks the next token.
 *
 * @param logits - one row of logits (not modified).
 * @param history - tokens seen so far (prompt and generated), for the repetition penalty.
 * @param options - sampling parameters.
 * @param rng - the random stream (unused when greedy).
 */
export function sampleToken(
  logits: ArrayLike<number>,
  history: Iterable<number>,
  options: SamplingOptions,
  rng: Xoshiro128,
): number {
  const scores = Float64Array.from(logits);
  const penalty = options.repetitionPenalty ?? 1;
  if (penalty !== 1) {
    for (const id of new Set(history)) {
      if (id < 0 || id >= scores.length) continue;
      const s = scores[id]!;
      scores[id] = s > 0 ? s / penalty : s * penalty;
    }
  }
  const temperature = options.temperature ?? 1;
  if (temperature === 0) return argmax(scores);
  // Candidates sorted by score, highest first (ties by id for determinism).
  let order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const topK = options.topK ?? 0;
  if (topK > 0 && topK < order.length) order = order.slice(0, topK);
  const max = scores[order[0]!]!;
  const weights = order.map((id) => Math.exp((scores[id]! - max) / temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  if (topP < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < order.length && cumulative < topP * total) cumulative += weights[keep++]!;
    order = order.slice(0, Math.max(keep, 1));
    weights.length = order.length;
    total = weights.reduce((a, b) => a + b, 0);
  }
  let u = rng.nextFloat() * total;
  for (let i = 0; i < order.length; i++) {
    u -= weights[i]!;
    if (u < 0) return order[i]!;
  }
  return order[order.length - 1]!;
}
