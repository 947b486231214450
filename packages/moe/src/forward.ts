/**
 * The MoE computation as a function of its weights: gate → scores →
 * (biased) top-k selection → device-side dispatch plan → grouped SwiGLU
 * experts → weighted combine, plus shared experts and the balance losses.
 */
import {
  type Tensor,
  add,
  cast,
  eq,
  arange,
  gather,
  matmul,
  mul,
  noGrad,
  sigmoid,
  silu,
  softmax,
  sum,
  div,
} from '@fathom/tensor-core';
import {
  routingProbabilities,
  routerZLoss,
  seedsBalanceLoss,
  sequenceBalanceLoss,
  switchBalanceLoss,
} from './balance.js';
import { type MoeConfig, expertCapacity } from './config.js';
import {
  type DispatchPlan,
  combineRows,
  dispatchPlan,
  gatherRows,
  groupedMatmul,
  routeTopK,
} from './ops.js';

/** The weights {@link moeForward} reads. */
export interface MoeWeights {
  /** Router, [E, H]. */
  gate: Tensor;
  /** Selection-only bias, [E] (auxiliary-loss-free balancing), or null. */
  bias: Tensor | null;
  /** Experts' gate projections, stacked: [E, I, H]. */
  expertGate: Tensor;
  /** Experts' up projections, stacked: [E, I, H]. */
  expertUp: Tensor;
  /** Experts' down projections, stacked: [E, H, I]. */
  expertDown: Tensor;
  /** The fused shared experts' SwiGLU ([S·I, H], [S·I, H], [H, S·I]), or null. */
  shared: { gate: Tensor; up: Tensor; down: Tensor } | null;
}

/** Values of the enabled balance losses (each unweighted), for logging. */
export interface BalanceLosses {
  seeds?: Tensor;
  switch?: Tensor;
  zLoss?: Tensor;
  sequence?: Tensor;
}

/** What {@link moeForward} returns; the caller disposes it. */
export interface MoeForwardResult {
  /** Same shape as the input. */
  output: Tensor;
  /** Σ weight·loss over the enabled balance losses, or null when none is enabled. */
  auxLoss: Tensor | null;
  /** The unweighted losses behind auxLoss. */
  losses: BalanceLosses;
  /** Chosen experts, [N, k] i32. */
  experts: Tensor;
  /** Combine weights, [N, k]. */
  weights: Tensor;
  /** The device-side dispatch plan. */
  plan: DispatchPlan;
  /** Frees everything except output, auxLoss and the losses. */
  disposeRouting(): void;
}

function swiglu(x: Tensor, gate: Tensor, up: Tensor, down: Tensor): Tensor {
  const g = matmul(x, gate, { transB: true });
  const a = silu(g);
  const u = matmul(x, up, { transB: true });
  const h = mul(a, u);
  const out = matmul(h, down, { transB: true });
  for (const t of [g, a, u, h]) t.dispose();
  return out;
}

/** Runs one MoE layer on `x [..., H]` (rank 3 means [batch, sequence, H] for the sequence-wise loss). */
export function moeForward(x: Tensor, w: MoeWeights, config: MoeConfig): MoeForwardResult {
  const hidden = x.shape[x.rank - 1]!;
  if (x.dtype !== 'f32')
    throw new TypeError(
      `MoeLayer: input has dtype ${x.dtype}; expected f32 (MoE kernels compute in f32)`,
    );
  if (w.gate.shape[1] !== hidden)
    throw new RangeError(
      `MoeLayer: input has shape [${x.shape.join(',')}]; expected last dim ${w.gate.shape[1]}`,
    );
  const n = x.size / hidden;
  const k = config.topK;
  const e = config.numExperts;
  const x2 = x.reshape([n, hidden]);
  const logits = matmul(x2, w.gate, { transB: true });
  const scores = config.scoring === 'softmax' ? softmax(logits, -1) : sigmoid(logits);
  const experts = noGrad(() => {
    const choice = w.bias ? add(scores, w.bias) : scores;
    const idx = routeTopK(choice, {
      k,
      groups: config.groups,
      topkGroups: config.topkGroups,
      groupScore: config.groupScore,
    });
    if (choice !== scores) choice.dispose();
    return idx;
  });
  let weights = gather(scores, 1, experts);
  if (config.normTopkProb && k > 1) {
    const total = sum(weights, { axis: -1, keepdim: true });
    const guarded = add(total, 1e-20);
    const normed = div(weights, guarded);
    for (const t of [weights, total, guarded]) t.dispose();
    weights = normed;
  }
  if (config.routedScalingFactor !== 1) {
    const scaled = mul(weights, config.routedScalingFactor);
    weights.dispose();
    weights = scaled;
  }
  const plan = dispatchPlan(experts, e, expertCapacity(config, n));
  const xs = gatherRows(x2, plan);
  const g = groupedMatmul(xs, w.expertGate, plan);
  const a = silu(g);
  const u = groupedMatmul(xs, w.expertUp, plan);
  const h = mul(a, u);
  const ys = groupedMatmul(h, w.expertDown, plan);
  const routed = combineRows(ys, weights, plan);
  for (const t of [xs, g, a, u, h, ys]) t.dispose();
  let out2 = routed;
  if (w.shared) {
    const s = swiglu(x2, w.shared.gate, w.shared.up, w.shared.down);
    out2 = add(routed, s);
    routed.dispose();
    s.dispose();
  }
  const output = out2.reshape(x.shape);
  out2.dispose();

  const losses: BalanceLosses = {};
  const b = config.balance;
  if (b.seeds > 0 || b.switch > 0 || b.sequence > 0) {
    const probs = routingProbabilities(scores, config.scoring);
    if (b.seeds > 0) losses.seeds = seedsBalanceLoss(probs, plan.counts, k);
    if (b.switch > 0) losses.switch = switchBalanceLoss(probs, plan.counts, k);
    if (b.sequence > 0) {
      const sequences = x.rank >= 3 ? x.size / (hidden * x.shape[x.rank - 2]!) : 1;
      const seqCounts = noGrad(() => {
        const ids = arange(0, e, 1, { device: x.device });
        const ex = experts.reshape([sequences, n / sequences, k, 1]);
        const hit = eq(ex, ids);
        const hf = cast(hit, 'f32');
        const c = sum(hf, { axis: [1, 2] });
        for (const t of [ids, ex, hit, hf]) t.dispose();
        return c;
      });
      losses.sequence = sequenceBalanceLoss(probs, seqCounts, sequences, k);
      seqCounts.dispose();
    }
    if (probs !== scores) probs.dispose();
  }
  if (b.zLoss > 0) losses.zLoss = routerZLoss(logits);
  let auxLoss: Tensor | null = null;
  for (const [key, weight] of [
    ['seeds', b.seeds],
    ['switch', b.switch],
    ['zLoss', b.zLoss],
    ['sequence', b.sequence],
  ] as const) {
    const l = losses[key];
    if (!l) continue;
    const term = mul(l, weight);
    if (auxLoss) {
      const next = add(auxLoss, term);
      auxLoss.dispose();
      term.dispose();
      auxLoss = next;
    } else auxLoss = term;
  }
  x2.dispose();
  logits.dispose();
  scores.dispose();
  return {
    output,
    auxLoss,
    losses,
    experts,
    weights,
    plan,
    disposeRouting() {
      experts.dispose();
      weights.dispose();
      plan.dispose();
    },
  };
}
