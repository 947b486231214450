/** Token-level perplexity of a token sequence with sliding windows (see {@link planWindows}). */
import type { CausalLm } from '@fathom/nn-layers';
import { tokenNll } from '../model/model-device.js';
import { type ScoringWindow, planWindows } from './window-plan.js';

/** Options of {@link slidingWindowNll}. */
export interface SlidingWindowOptions {
  /** Window length (default: the model's maxPositionEmbeddings). */
  context?: number;
  /** Distance between window starts (default: context / 2). */
  stride?: number;
  /** Windows of equal length scored in one forward pass (default 8). */
  batchSize?: number;
}

/** The per-token losses of a sequence. */
export interface SequenceNll {
  /** nll[p] = −log p(token p | its window's context), nats; NaN where not scored (position 0). */
  nll: Float64Array;
  /** For each scored position, its index inside its window (how much context it had). */
  windowPosition: Int32Array;
  /** Positions scored. */
  scored: number;
  /** Sum of the scored losses. */
  totalNll: number;
  /** The window length and stride used. */
  context: number;
  stride: number;
}

/**
 * Scores every token of `ids` after the first with sliding windows.
 *
 * @param model - the model (eval mode).
 * @param ids - the token sequence.
 * @param options - window length, stride and batching.
 */
export async function slidingWindowNll(
  model: CausalLm,
  ids: readonly number[],
  options: SlidingWindowOptions = {},
): Promise<SequenceNll> {
  const maxContext = model.config.maxPositionEmbeddings;
  const context = options.context ?? maxContext;
  if (context > maxContext)
    throw new RangeError(
      `perplexity: context is ${context}; expected at most the model's maxPositionEmbeddings ${maxContext}`,
    );
  const stride = options.stride ?? Math.max(1, Math.floor(context / 2));
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`perplexity: batchSize is ${batchSize}; expected an integer >= 1`);
  const windows = planWindows(ids.length, context, stride);
  const nll = new Float64Array(ids.length).fill(Number.NaN);
  const windowPosition = new Int32Array(ids.length).fill(-1);
  // Windows of one length go through the model together.
  const byLength = new Map<number, ScoringWindow[]>();
  for (const w of windows) {
    const group = byLength.get(w.end - w.begin) ?? [];
    group.push(w);
    byLength.set(w.end - w.begin, group);
  }
  for (const group of byLength.values()) {
    for (let i = 0; i < group.length; i += batchSize) {
      const batch = group.slice(i, i + batchSize);
      const inputs = batch.map((w) => ids.slice(w.begin, w.end - 1));
      const targets = batch.map((w) =>
        ids.slice(w.begin + 1, w.end).map((y, j) => (w.begin + 1 + j >= w.scoreFrom ? y : -100)),
      );
      const losses = await tokenNll(model, inputs, targets);
      batch.forEach((w, b) => {
        for (let p = w.scoreFrom; p < w.end; p++) {
          nll[p] = losses[b]![p - w.begin - 1]!;
          windowPosition[p] = p - w.begin;
        }
      });
    }
  }
  let totalNll = 0;
  let scored = 0;
  for (const v of nll) {
    if (Number.isNaN(v)) continue;
    totalNll += v;
    scored++;
  }
  return { nll, windowPosition, scored, totalNll, context, stride };
}
