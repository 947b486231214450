/** Text generation with the KV cache: greedy, or seeded sampling with temperature and top-k. */
import { Xoshiro128 } from '@fathom/data-pipeline';
import { type CausalLm, KvCache } from '@fathom/nn-layers';
import { type Device, fromArray, noGrad, scope, slice } from '@fathom/tensor-core';

/** Options of {@link generate}. */
export interface GenerateOptions {
  maxNewTokens: number;
  /** 0: greedy (argmax). */
  temperature: number;
  /** Sample among the k likeliest tokens (0: all). */
  topK: number;
  /** Seed of the sampler. */
  seed: number;
  /** Stop after this token (not included in the result). */
  eosId?: number;
}

/** Picks the next token from one row of logits. */
export function pickToken(
  logits: ArrayLike<number>,
  options: GenerateOptions,
  rng: Xoshiro128,
): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (options.temperature === 0) return best;
  let order = Array.from({ length: logits.length }, (_, i) => i);
  if (options.topK > 0 && options.topK < logits.length) {
    order.sort((a, b) => logits[b]! - logits[a]! || a - b);
    order = order.slice(0, options.topK);
  }
  const max = logits[best]!;
  const weights = order.map((i) => Math.exp((logits[i]! - max) / options.temperature));
  let u = rng.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    u -= weights[j]!;
    if (u <= 0) return order[j]!;
  }
  return order.at(-1)!;
}

/**
 * Continues `prompt` (token ids) by up to `maxNewTokens` tokens, feeding only the new token
 * each step thanks to the KV cache. Stops early at `eosId` or when the model's
 * `maxPositionEmbeddings` is reached. Returns the new ids.
 */
export async function generate(
  model: CausalLm,
  device: Device,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<number[]> {
  if (prompt.length === 0)
    throw new RangeError('generate: prompt has no tokens; expected at least one');
  const rng = new Xoshiro128(options.seed);
  const wasTraining = model.training;
  model.eval();
  const cache = new KvCache(model.config.numLayers);
  const out: number[] = [];
  try {
    let input = [...prompt];
    const maxPos = model.config.maxPositionEmbeddings;
    while (out.length < options.maxNewTokens && cache.length + input.length <= maxPos) {
      const n = input.length;
      const logits = await scope(async () => {
        const all = noGrad(() =>
          model.forward(fromArray(input, [1, n], { device, dtype: 'i32' }), { cache }),
        );
        return slice(all, [undefined, { start: n - 1, end: n }]).toArray();
      });
      const next = pickToken(logits, options, rng);
      if (next === options.eosId) break;
      out.push(next);
      input = [next];
    }
    return out;
  } finally {
    cache.dispose();
    model.train(wasTraining);
  }
}
