/** Slow, direct computations that tests compare the evaluator against. */
import type { CausalLm } from '@fathom/nn-layers';
import { fromArray, noGrad } from '@fathom/tensor-core';
import { modelDevice } from '../model/model-device.js';

/** All logits of one sequence, [T][vocab], read straight from one forward pass. */
export async function fullLogits(model: CausalLm, ids: readonly number[]): Promise<number[][]> {
  const device = modelDevice(model);
  const input = fromArray(ids, [1, ids.length], { device, dtype: 'i32' });
  const logits = noGrad(() => model.forward(input));
  const flat = Array.from(await logits.toArray());
  input.dispose();
  logits.dispose();
  const v = model.config.vocabSize;
  return ids.map((_, t) => flat.slice(t * v, (t + 1) * v));
}

/** log softmax(row)[target], in float64. */
export function logProb(row: readonly number[], target: number): number {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row[target]! - lse;
}

/** Greedy decoding by full recomputation: each step reruns the whole sequence. */
export async function greedyByRecomputation(
  model: CausalLm,
  prompt: readonly number[],
  steps: number,
): Promise<number[]> {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const logits = await fullLogits(model, seq);
    const last = logits[logits.length - 1]!;
    const next = last.indexOf(Math.max(...last));
    seq.push(next);
    out.push(next);
  }
  return out;
}
