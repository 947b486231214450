/**
 * MiniLM-style self-attention relation distillation (Wang et al., 2020/2021), built from
 * hidden states: each side's `[B, T, D]` states are split into R relation heads of width
 * `D / R`, the relation `softmax(X_r X_rᵀ / √(D/R))` (causally masked for a decoder) is
 * formed per head, and the loss is `KL(teacher relation ‖ student relation)` per row.
 * Widths may differ (the relation is `[B, R, T, T]` either way), so no projection is needed.
 * `CausalLm` does not expose queries, keys or values, so these are MiniLMv2's relations
 * applied to the residual stream, not to Q/K/V.
 */
import {
  type Tensor,
  detach,
  exp,
  fromArray,
  logSoftmax,
  matmul,
  mean,
  mul,
  reshape,
  scope,
  sub,
  sum,
  add,
  transpose,
} from '@fathom/tensor-core';
import { fmt } from './checks.js';

/** Options of {@link relationKl}. */
export interface RelationKlOptions {
  /** Relation heads R; both widths must be divisible by it (default 1). */
  relationHeads?: number;
  /** Mask future positions (default true, as for a causal LM). */
  causal?: boolean;
}

/** Added to masked scores: exp of it is exactly 0 in f32. */
const MASKED = -1e9;

/** Log of the relation softmax `[B, R, T, T]` of states `[B, T, D]`. */
export function logRelation(x: Tensor, heads: number, causal: boolean): Tensor {
  const [b, t, d] = x.shape as [number, number, number];
  const dr = d / heads;
  return scope(() => {
    const xh = transpose(reshape(x, [b, t, heads, dr]), 1, 2);
    let scores = mul(matmul(xh, transpose(xh, 2, 3)), 1 / Math.sqrt(dr));
    if (causal) {
      const bias = new Float64Array(t * t);
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) bias[i * t + j] = MASKED;
      scores = add(scores, fromArray(bias, [t, t], { device: x.device, dtype: x.dtype }));
    }
    return logSoftmax(scores, -1);
  });
}

/** `mean over (batch, relation head, query) of KL(rel_t ‖ rel_s)` for states `[B, T, D]`. */
export function relationKl(
  student: Tensor,
  teacher: Tensor,
  options: RelationKlOptions = {},
): Tensor {
  const heads = options.relationHeads ?? 1;
  if (!Number.isInteger(heads) || heads < 1) {
    throw new RangeError(`relationKl: relationHeads is ${heads}; expected a positive integer`);
  }
  for (const [name, x] of [
    ['student', student],
    ['teacher', teacher],
  ] as const) {
    if (x.rank !== 3) {
      throw new RangeError(
        `relationKl: ${name} has shape ${fmt(x.shape)}; expected [batch, time, width]`,
      );
    }
    if (x.shape[2]! % heads !== 0) {
      throw new RangeError(
        `relationKl: ${name} width ${x.shape[2]} is not divisible by relationHeads ${heads}`,
      );
    }
  }
  if (student.shape[0] !== teacher.shape[0] || student.shape[1] !== teacher.shape[1]) {
    throw new RangeError(
      `relationKl: teacher has shape ${fmt(teacher.shape)}; expected batch and time ${fmt(student.shape.slice(0, 2))} (student's)`,
    );
  }
  const causal = options.causal ?? true;
  return scope(() => {
    const logS = logRelation(student, heads, causal);
    const logT = logRelation(detach(teacher), heads, causal);
    return mean(sum(mul(exp(logT), sub(logT, logS)), { axis: -1 }));
  });
}
