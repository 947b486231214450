/**
 * Attention-map distillation: KL(teacher's attention ‖ student's) per query row, for
 * probability maps `[B, H, T, S]` as captured by `CausalLm.forward`'s `attentionProbs` hook.
 */
import {
  type Tensor,
  detach,
  log,
  maximum,
  mean,
  mul,
  reshape,
  scope,
  sub,
  sum,
} from '@fathom/tensor-core';
import { fmt, positive } from './checks.js';

/**
 * How teacher heads meet student heads when their counts differ:
 * `'group'` averages each run of `Ht / Hs` consecutive teacher heads into one (needs
 * `Ht` divisible by `Hs`); `'mean'` averages all heads on both sides into one map.
 */
export type HeadReduction = 'group' | 'mean';

/** Options of {@link attentionKl}. */
export interface AttentionKlOptions {
  /** Rule for unequal head counts (default `'group'`). */
  heads?: HeadReduction;
  /** Floor applied to probabilities before the log, so masked zeros give 0·log ε = 0 (default 1e-12). */
  eps?: number;
}

/** Teacher `[B, Ht, T, S]` averaged to `[B, Hs, T, S]`. */
function groupHeads(teacher: Tensor, studentHeads: number, rule: HeadReduction): Tensor {
  const [b, ht, t, s] = teacher.shape as [number, number, number, number];
  if (ht === studentHeads) return teacher;
  if (rule === 'mean') return mean(teacher, { axis: 1, keepdim: true });
  if (ht % studentHeads !== 0) {
    throw new RangeError(
      `attentionKl: teacher has ${ht} heads, not a multiple of the student's ${studentHeads}; use heads: 'mean'`,
    );
  }
  return mean(reshape(teacher, [b, studentHeads, ht / studentHeads, t, s]), { axis: 2 });
}

/**
 * `mean over (batch, head, query) of Σ_s p_t · (log p_t − log p_s)` between attention
 * probabilities. The teacher is detached; head counts are reconciled by `options.heads`.
 */
export function attentionKl(
  student: Tensor,
  teacher: Tensor,
  options: AttentionKlOptions = {},
): Tensor {
  const eps = options.eps ?? 1e-12;
  positive('attentionKl', 'eps', eps);
  const rule = options.heads ?? 'group';
  if (rule !== 'group' && rule !== 'mean') {
    throw new RangeError(`attentionKl: heads is '${String(rule)}'; expected 'group' or 'mean'`);
  }
  for (const [name, x] of [
    ['student', student],
    ['teacher', teacher],
  ] as const) {
    if (x.rank !== 4) {
      throw new RangeError(
        `attentionKl: ${name} has shape ${fmt(x.shape)}; expected [batch, heads, query, key]`,
      );
    }
  }
  const [b, hs, t, s] = student.shape as [number, number, number, number];
  if (teacher.shape[0] !== b || teacher.shape[2] !== t || teacher.shape[3] !== s) {
    throw new RangeError(
      `attentionKl: teacher has shape ${fmt(teacher.shape)}; expected [${b}, heads, ${t}, ${s}] (student's ${fmt(student.shape)})`,
    );
  }
  return scope(() => {
    let ps = student;
    let pt = groupHeads(detach(teacher), hs, rule);
    if (rule === 'mean' && teacher.shape[1] !== hs) {
      ps = mean(student, { axis: 1, keepdim: true });
      pt = pt.shape[1] === 1 ? pt : mean(pt, { axis: 1, keepdim: true });
    }
    const logT = log(maximum(pt, eps));
    const logS = log(maximum(ps, eps));
    return mean(sum(mul(pt, sub(logT, logS)), { axis: -1 }));
  });
}
