/**
 * `MoeConfig`: the plain settings of a mixture-of-experts layer, with the
 * defaults and checks of {@link resolveMoeConfig} and the mapping to
 * DeepSeek-V2/V3's Hugging Face `config.json` fields.
 */
import type { GroupScore } from './kernels/route.js';

/** Weights of the balance losses; 0 turns one off. */
export interface BalanceWeights {
  /** α of the seeds' loss α·Σᵢ(fᵢ/μ − 1)² (typically 0.01). */
  seeds: number;
  /** Weight of the Switch-Transformer loss E·Σᵢ fᵢ·Pᵢ (typically 0.01). */
  switch: number;
  /** Weight of the router z-loss mean_t logsumexp(logits_t)² (typically 0.001). */
  zLoss: number;
  /** α of DeepSeek-V3's sequence-wise balance loss (typically 1e-4). */
  sequence: number;
}

/** Settings of a mixture-of-experts layer (all fields required; see {@link resolveMoeConfig}). */
export interface MoeConfig {
  /** Routed experts (`n_routed_experts`). */
  numExperts: number;
  /** Shared experts, fused into one SwiGLU of width numSharedExperts × expertIntermediateSize (`n_shared_experts`). */
  numSharedExperts: number;
  /** Experts per token (`num_experts_per_tok`). */
  topK: number;
  /** Width of each expert's SwiGLU (`moe_intermediate_size`). */
  expertIntermediateSize: number;
  /** Gate scores: softmax over experts (DeepSeek-V2) or per-expert sigmoid (V3) (`scoring_func`). */
  scoring: 'softmax' | 'sigmoid';
  /** Renormalise the k selected weights to sum to 1 (`norm_topk_prob`). */
  normTopkProb: boolean;
  /** Factor on the routed experts' output (`routed_scaling_factor`). */
  routedScalingFactor: number;
  /** Expert groups for group-limited routing (`n_group`); 1 disables it. */
  groups: number;
  /** Groups each token may route into (`topk_group`). */
  topkGroups: number;
  /** Group score: the best expert's score (V2) or the sum of the best two (V3). */
  groupScore: GroupScore;
  /**
   * Capacity factor: each expert keeps at most ⌈factor·N·k/E⌉ of a batch's N
   * tokens (later tokens are dropped and get only the shared experts' output);
   * null keeps every token (no-drop).
   */
  capacityFactor: number | null;
  /** Balance-loss weights. */
  balance: BalanceWeights;
  /** γ of auxiliary-loss-free balancing (bias += γ·sign(mean load − load)); 0 turns it off. */
  biasUpdateRate: number;
  /** Standard deviation of the initial expert and gate weights. */
  initStd: number;
}

/** A {@link MoeConfig} with any field left out (filled from {@link MOE_DEFAULTS}). */
export type MoeConfigInput = Partial<Omit<MoeConfig, 'balance'>> & {
  balance?: Partial<BalanceWeights>;
};

/** Defaults: 8 experts, top-2, softmax, no shared experts, no-drop, no balancing. */
export const MOE_DEFAULTS: Readonly<MoeConfig> = Object.freeze({
  numExperts: 8,
  numSharedExperts: 0,
  topK: 2,
  expertIntermediateSize: 0,
  scoring: 'softmax',
  normTopkProb: true,
  routedScalingFactor: 1,
  groups: 1,
  topkGroups: 1,
  groupScore: 'max',
  capacityFactor: null,
  balance: Object.freeze({ seeds: 0, switch: 0, zLoss: 0, sequence: 0 }),
  biasUpdateRate: 0,
  initStd: 0.02,
});

function positiveInt(field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new RangeError(`MoeConfig.${field} is ${String(v)}; expected a positive integer`);
}

function nonNegative(field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new RangeError(`MoeConfig.${field} is ${String(v)}; expected a finite number ≥ 0`);
}

/**
 * Fills defaults and checks every field; errors name the field, its value and
 * what was expected. `expertIntermediateSize` has no default: pass it.
 */
export function resolveMoeConfig(input: MoeConfigInput): MoeConfig {
  if (input.expertIntermediateSize === undefined)
    throw new RangeError(
      'MoeConfig.expertIntermediateSize is missing; expected a positive integer (the width of each expert)',
    );
  const groups = input.groups ?? MOE_DEFAULTS.groups;
  const c: MoeConfig = {
    ...MOE_DEFAULTS,
    topkGroups: groups,
    ...input,
    balance: { ...MOE_DEFAULTS.balance, ...input.balance },
  } as MoeConfig;
  positiveInt('numExperts', c.numExperts);
  positiveInt('topK', c.topK);
  positiveInt('expertIntermediateSize', c.expertIntermediateSize);
  positiveInt('groups', c.groups);
  positiveInt('topkGroups', c.topkGroups);
  if (!Number.isInteger(c.numSharedExperts) || c.numSharedExperts < 0)
    throw new RangeError(
      `MoeConfig.numSharedExperts is ${c.numSharedExperts}; expected an integer ≥ 0`,
    );
  if (c.topK > c.numExperts)
    throw new RangeError(
      `MoeConfig.topK is ${c.topK}; expected at most numExperts (${c.numExperts})`,
    );
  if (c.numExperts % c.groups !== 0)
    throw new RangeError(
      `MoeConfig.groups is ${c.groups}; expected a divisor of numExperts (${c.numExperts})`,
    );
  if (c.topkGroups > c.groups)
    throw new RangeError(
      `MoeConfig.topkGroups is ${c.topkGroups}; expected at most groups (${c.groups})`,
    );
  if (c.topkGroups * (c.numExperts / c.groups) < c.topK)
    throw new RangeError(
      `MoeConfig.topkGroups is ${c.topkGroups}; its ${c.topkGroups * (c.numExperts / c.groups)} experts cannot fill topK (${c.topK})`,
    );
  if (c.scoring !== 'softmax' && c.scoring !== 'sigmoid')
    throw new RangeError(
      `MoeConfig.scoring is ${String(c.scoring)}; expected 'softmax' or 'sigmoid'`,
    );
  if (c.groupScore !== 'max' && c.groupScore !== 'top2sum')
    throw new RangeError(
      `MoeConfig.groupScore is ${String(c.groupScore)}; expected 'max' or 'top2sum'`,
    );
  if (typeof c.normTopkProb !== 'boolean')
    throw new TypeError(`MoeConfig.normTopkProb is ${String(c.normTopkProb)}; expected a boolean`);
  if (typeof c.routedScalingFactor !== 'number' || !(c.routedScalingFactor > 0))
    throw new RangeError(
      `MoeConfig.routedScalingFactor is ${String(c.routedScalingFactor)}; expected a number > 0`,
    );
  if (c.capacityFactor !== null && !(typeof c.capacityFactor === 'number' && c.capacityFactor > 0))
    throw new RangeError(
      `MoeConfig.capacityFactor is ${String(c.capacityFactor)}; expected a number > 0, or null for no dropping`,
    );
  for (const key of ['seeds', 'switch', 'zLoss', 'sequence'] as const)
    nonNegative(`balance.${key}`, c.balance[key]);
  nonNegative('biasUpdateRate', c.biasUpdateRate);
  if (!(c.initStd > 0)) throw new RangeError(`MoeConfig.initStd is ${c.initStd}; expected > 0`);
  return c;
}

/** Per-expert capacity for `tokens` tokens (0: no limit). */
export function expertCapacity(config: MoeConfig, tokens: number): number {
  if (config.capacityFactor === null) return 0;
  return Math.max(1, Math.ceil((config.capacityFactor * tokens * config.topK) / config.numExperts));
}

/**
 * The DeepSeek-V2/V3 `config.json` fields of a layer's settings (merge them
 * into the model's Hugging Face config). `first_k_dense_replace` and
 * `moe_layer_freq` describe which layers are MoE and are the caller's.
 */
export function toHfMoeConfig(c: MoeConfig): Record<string, unknown> {
  return {
    n_routed_experts: c.numExperts,
    n_shared_experts: c.numSharedExperts,
    num_experts_per_tok: c.topK,
    moe_intermediate_size: c.expertIntermediateSize,
    scoring_func: c.scoring,
    norm_topk_prob: c.normTopkProb,
    routed_scaling_factor: c.routedScalingFactor,
    n_group: c.groups,
    topk_group: c.topkGroups,
    topk_method:
      c.biasUpdateRate > 0 ? 'noaux_tc' : c.groups > 1 ? 'group_limited_greedy' : 'greedy',
    aux_loss_alpha: c.balance.sequence,
    seq_aux: c.balance.sequence > 0,
  };
}
