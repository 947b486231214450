/** Attention written with separate ops (scores, mask, softmax, product): what the fused op replaces. */
import {
  type Tensor,
  add,
  arange,
  full,
  le,
  matmul,
  mul,
  reshape,
  softmax,
  where,
} from '../src/index.js';

/** softmax(q·kᵀ/√d + causal mask)·v for q, k, v [B, H, T, d]. */
export function unfusedAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const [, , T, D] = q.shape as [number, number, number, number];
  const scores = mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(D));
  const t = reshape(arange(0, T, 1, { device: q.device }), [T, 1]);
  const s = reshape(arange(0, T, 1, { device: q.device }), [1, T]);
  const masked = where(le(s, add(t, 0)), scores, full([], -1e30, { device: q.device }));
  return matmul(softmax(masked, -1), v);
}
