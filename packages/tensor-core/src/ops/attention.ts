/**
 * Scaled dot-product attention computed in one pass over the keys with an online
 * softmax (flash-attention style): the T×S score matrix is never stored. Forward
 * saves only the output and each row's logsumexp; backward recomputes the scores
 * key by key from them.
 *
 * Kernel contracts (every backend; q, k, v contiguous, q [B,H,T,d], k/v [B,Hkv,S,d]):
 * - `attention`: inputs [q, k, v], attrs {@link AttentionAttrs}; outputs
 *   [o [B,H,T,d], lse [B,H,T] f32].
 * - `attention_grad_q`: inputs [q, k, v, o, lse, dO]; outputs [dq, delta [B,H,T] f32]
 *   with delta = rowsum(dO·o).
 * - `attention_grad_kv`: inputs [q, k, v, lse, delta, dO]; outputs [dk, dv] (summed over
 *   the query heads that share a key/value head).
 * Query t sees key s when `!causal || s <= t + kvOffset`.
 */
import { isFloat, promoteTypes } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options of {@link causalAttention}. */
export interface AttentionOptions {
  /** Multiplies q·k (default 1/√d). */
  scale?: number;
  /** Mask keys after each query's position (default true). */
  causal?: boolean;
  /**
   * Position of query 0 among the keys: query t sees keys s ≤ t + kvOffset
   * (default S − T, so the last query sees every key, as with a KV cache).
   */
  kvOffset?: number;
}

/** Attributes of the attention kernels. */
export interface AttentionAttrs {
  scale: number;
  causal: boolean;
  kvOffset: number;
}

function dense(t: Tensor): Tensor {
  return t.isContiguous
    ? t
    : execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

/**
 * Causal (or full) multi-head attention with grouped-query heads, fused:
 * `softmax(q·kᵀ·scale + mask)·v` without storing the [T, S] scores, in forward or backward.
 *
 * @param q - Queries [B, H, T, d], any float dtype.
 * @param k - Keys [B, Hkv, S, d]; Hkv divides H (query head h uses key head ⌊h·Hkv/H⌋).
 * @param v - Values [B, Hkv, S, d].
 * @param options - `scale` (default 1/√d), `causal` (default true), `kvOffset` (default S − T).
 * @returns The attention output [B, H, T, d] in the promoted dtype.
 */
export function causalAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  for (const [t, name] of [
    [q, 'q'],
    [k, 'k'],
    [v, 'v'],
  ] as const) {
    if (!(t instanceof Tensor))
      throw new TypeError(`causalAttention: ${name} must be a Tensor; got ${typeof t}`);
    if (!isFloat(t.dtype))
      throw new TypeError(
        `causalAttention: ${name} has dtype ${t.dtype}; expected f32, f16 or bf16`,
      );
    if (t.rank !== 4)
      throw new RangeError(
        `causalAttention: ${name} has shape ${fmt(t.shape)}; expected rank 4 ([batch, heads, time, headDim])`,
      );
  }
  const device = commonDevice('causalAttention', [q, k, v], ['q', 'k', 'v']);
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const [kb, hkv, S, kd] = k.shape as [number, number, number, number];
  if (kb !== B || kd !== D)
    throw new RangeError(
      `causalAttention: k has shape ${fmt(k.shape)}; expected [${B}, Hkv, S, ${D}] (q's batch and head dim)`,
    );
  if (hkv === 0 || H % hkv !== 0)
    throw new RangeError(
      `causalAttention: k has ${hkv} heads; expected a divisor of q's ${H} heads`,
    );
  if (v.shape.some((n, i) => n !== k.shape[i]))
    throw new RangeError(
      `causalAttention: v has shape ${fmt(v.shape)}; expected k's shape ${fmt(k.shape)}`,
    );
  const causal = options.causal ?? true;
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const kvOffset = options.kvOffset ?? S - T;
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new RangeError(`causalAttention: scale is ${String(scale)}; expected a finite number`);
  if (!Number.isInteger(kvOffset))
    throw new RangeError(`causalAttention: kvOffset is ${kvOffset}; expected an integer`);
  if (causal && kvOffset < 0 && T > 0)
    throw new RangeError(
      `causalAttention: kvOffset is ${kvOffset}; expected >= 0 so that every query sees a key (T = ${T}, S = ${S})`,
    );
  if (!causal && S === 0 && T > 0)
    throw new RangeError(`causalAttention: k has no keys (S = 0); expected at least one`);
  const attrs: AttentionAttrs = { scale, causal, kvOffset };
  const dtype = promoteTypes(promoteTypes(q.dtype, k.dtype), v.dtype);
  const [qs, ks, vs] = [dense(q), dense(k), dense(v)];
  const [o, lse] = execute(
    'attention',
    device,
    [qs, ks, vs],
    [
      { shape: [B, H, T, D], dtype },
      { shape: [B, H, T], dtype: 'f32' },
    ],
    attrs,
  );
  if (needsGrad(q, k, v)) {
    record('causalAttention', [q, k, v], [o!], [qs, ks, vs, o!, lse!], ([g], saved) => {
      const [sq, sk, sv, so, sl] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const dO = dense(g!);
      const [dq, delta] = execute(
        'attention_grad_q',
        device,
        [sq, sk, sv, so, sl, dO],
        [
          { shape: sq.shape, dtype: q.dtype },
          { shape: [B, H, T], dtype: 'f32' },
        ],
        attrs,
      );
      const [dk, dv] = execute(
        'attention_grad_kv',
        device,
        [sq, sk, sv, sl, delta!, dO],
        [
          { shape: sk.shape, dtype: k.dtype },
          { shape: sv.shape, dtype: v.dtype },
        ],
        attrs,
      );
      delta!.dispose();
      if (dO !== g) dO.dispose();
      return [dq!, dk!, dv!];
    });
  }
  lse!.dispose();
  for (const [d, t] of [
    [qs, q],
    [ks, k],
    [vs, v],
  ] as const)
    if (d !== t) d.dispose();
  return o!;
}
