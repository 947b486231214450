/**
 * Balance losses of a router, written with tensor-core ops so autograd
 * differentiates them. Inputs: the gate's logits `[N, E]`, its scores `[N, E]`
 * (softmax or sigmoid), and the routed counts. P is the mean over tokens of
 * the per-token probabilities (sigmoid scores renormalised to sum to 1 per
 * token, as DeepSeek-V3 does); f is from the hard top-k selection.
 */
import {
  type Tensor,
  add,
  cast,
  div,
  logsumexp,
  mean,
  mul,
  noGrad,
  square,
  sub,
  sum,
} from '@fathom/tensor-core';

/**
 * Per-token probabilities over experts: softmax scores as they are (the same
 * tensor is returned), sigmoid scores renormalised (a new tensor).
 */
export function routingProbabilities(scores: Tensor, scoring: 'softmax' | 'sigmoid'): Tensor {
  if (scoring === 'softmax') return scores;
  const total = sum(scores, { axis: -1, keepdim: true });
  const out = div(scores, total);
  total.dispose();
  return out;
}

/**
 * The seeds' balance loss Σᵢ(fᵢ/μ − 1)² (unweighted; the layer multiplies by α),
 * fᵢ = countᵢ/N the fraction of tokens that activate expert i and μ its mean.
 * The value uses the hard frequencies; the gradient flows through the mean
 * probabilities Pᵢ·k (straight-through), since counts have none.
 */
export function seedsBalanceLoss(probs: Tensor, counts: Tensor, k: number): Tensor {
  const n = probs.shape[0]!;
  const e = probs.shape[1]!;
  const p = mul(mean(probs, { axis: 0 }), k);
  const hard = noGrad(() => {
    const c = cast(counts, 'f32');
    const f = div(c, n);
    c.dispose();
    return f;
  });
  // f = p + (hard − p) with the bracket detached: hard's value, p's gradient.
  const gap = noGrad(() => sub(hard, p));
  const f = add(p, gap);
  const mu = k / e; // Σᵢ countᵢ = N·k, so μ = k/E exactly.
  const ratio = sub(div(f, mu), 1);
  const out = sum(square(ratio));
  for (const t of [p, hard, gap, f, ratio]) t.dispose();
  return out;
}

/** Switch Transformer's loss E·Σᵢ fᵢ·Pᵢ, fᵢ = countᵢ/(N·k) (unweighted). */
export function switchBalanceLoss(probs: Tensor, counts: Tensor, k: number): Tensor {
  const n = probs.shape[0]!;
  const e = probs.shape[1]!;
  const p = mean(probs, { axis: 0 });
  const f = noGrad(() => {
    const c = cast(counts, 'f32');
    const out = div(c, n * k);
    c.dispose();
    return out;
  });
  const fp = mul(f, p);
  const s = sum(fp);
  const out = mul(s, e);
  for (const t of [p, f, fp, s]) t.dispose();
  return out;
}

/** Router z-loss: mean over tokens of logsumexp(logits)² (ST-MoE). */
export function routerZLoss(logits: Tensor): Tensor {
  const z = logsumexp(logits, { axis: -1 });
  const z2 = square(z);
  const out = mean(z2);
  z.dispose();
  z2.dispose();
  return out;
}

/**
 * DeepSeek-V3's sequence-wise balance loss (unweighted): for each sequence,
 * Σᵢ fᵢ·Pᵢ with fᵢ = E/(k·T)·(tokens of the sequence routed to i) and Pᵢ the
 * mean probability over its T tokens; averaged over the B sequences.
 * `probs` is `[B·T, E]`, `seqCounts` `[B, E]` (f32).
 */
export function sequenceBalanceLoss(
  probs: Tensor,
  seqCounts: Tensor,
  sequences: number,
  k: number,
): Tensor {
  const e = probs.shape[1]!;
  const t = probs.shape[0]! / sequences;
  const p3 = probs.reshape([sequences, t, e]);
  const p = mean(p3, { axis: 1 });
  const f = noGrad(() => mul(seqCounts, e / (k * t)));
  const fp = mul(f, p);
  const perSeq = sum(fp, { axis: -1 });
  const out = mean(perSeq);
  for (const x of [p3, p, f, fp, perSeq]) x.dispose();
  return out;
}
