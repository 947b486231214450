/** Reference kernels of fused attention (contracts in ops/attention.ts): direct per-row softmax. */
import type { TensorView } from '../../backend.js';
import type { AttentionAttrs } from '../../ops/attention.js';
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf, storeAs } from './cpu-backend.js';
import { valuesOf } from './strided.js';

interface Dims {
  B: number;
  H: number;
  T: number;
  D: number;
  Hkv: number;
  S: number;
}

function dims(q: TensorView, k: TensorView): Dims {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  return { B, H, T, D, Hkv: k.shape[1]!, S: k.shape[2]! };
}

/** Keys query t sees. */
function visible(t: number, S: number, a: AttentionAttrs): number {
  return a.causal ? Math.min(S, t + a.kvOffset + 1) : S;
}

/** Scores and probabilities of one query row against its visible keys. */
function rowProbs(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  qBase: number,
  kBase: number,
  n: number,
  D: number,
  scale: number,
): { p: number[]; lse: number } {
  const s: number[] = [];
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let c = 0; c < D; c++) dot += q[qBase + c]! * k[kBase + j * D + c]!;
    s.push(dot * scale);
    m = Math.max(m, dot * scale);
  }
  let l = 0;
  for (const x of s) l += Math.exp(x - m);
  const lse = m + Math.log(l);
  return { p: s.map((x) => Math.exp(x - lse)), lse };
}

registerKernel<CpuBackend, AttentionAttrs>(
  'attention',
  'cpu',
  (backend, [qv, kv, vv], [ov, lv], a) => {
    const { B, H, T, D, Hkv, S } = dims(qv!, kv!);
    const [q, k, v] = [valuesOf(qv!), valuesOf(kv!), valuesOf(vv!)];
    const o = dataOf(ov!.handle);
    const lse = dataOf(lv!.handle);
    const so = storeAs(ov!.dtype, backend.float64);
    const sl = storeAs('f32', backend.float64);
    const group = H / Hkv;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kBase = (b * Hkv + Math.floor(h / group)) * S * D;
        for (let t = 0; t < T; t++) {
          const row = (b * H + h) * T + t;
          const n = visible(t, S, a);
          const { p, lse: L } = rowProbs(q, k, row * D, kBase, n, D, a.scale);
          for (let c = 0; c < D; c++) {
            let acc = 0;
            for (let j = 0; j < n; j++) acc += p[j]! * v[kBase + j * D + c]!;
            o[row * D + c] = so(acc);
          }
          lse[row] = sl(L);
        }
      }
  },
);

registerKernel<CpuBackend, AttentionAttrs>(
  'attention_grad_q',
  'cpu',
  (backend, [qv, kv, vv, ov, , gv], [dqv, deltav], a) => {
    const { B, H, T, D, Hkv, S } = dims(qv!, kv!);
    const [q, k, v, o, g] = [qv, kv, vv, ov, gv].map((x) => valuesOf(x!));
    const dq = dataOf(dqv!.handle);
    const delta = dataOf(deltav!.handle);
    const sq = storeAs(dqv!.dtype, backend.float64);
    const sd = storeAs('f32', backend.float64);
    const group = H / Hkv;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kBase = (b * Hkv + Math.floor(h / group)) * S * D;
        for (let t = 0; t < T; t++) {
          const row = (b * H + h) * T + t;
          const n = visible(t, S, a);
          const { p } = rowProbs(q!, k!, row * D, kBase, n, D, a.scale);
          let dl = 0;
          for (let c = 0; c < D; c++) dl += g![row * D + c]! * o![row * D + c]!;
          const acc = new Array<number>(D).fill(0);
          for (let j = 0; j < n; j++) {
            let dp = 0;
            for (let c = 0; c < D; c++) dp += g![row * D + c]! * v![kBase + j * D + c]!;
            const ds = p[j]! * (dp - dl) * a.scale;
            for (let c = 0; c < D; c++) acc[c]! += ds * k![kBase + j * D + c]!;
          }
          for (let c = 0; c < D; c++) dq[row * D + c] = sq(acc[c]!);
          delta[row] = sd(dl);
        }
      }
  },
);

registerKernel<CpuBackend, AttentionAttrs>(
  'attention_grad_kv',
  'cpu',
  (backend, [qv, kv, vv, , deltav, gv], [dkv, dvv], a) => {
    const { B, H, T, D, Hkv, S } = dims(qv!, kv!);
    const [q, k, v, delta, g] = [qv, kv, vv, deltav, gv].map((x) => valuesOf(x!));
    const dk = new Float64Array(B * Hkv * S * D);
    const dv = new Float64Array(B * Hkv * S * D);
    const group = H / Hkv;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const kBase = (b * Hkv + Math.floor(h / group)) * S * D;
        for (let t = 0; t < T; t++) {
          const row = (b * H + h) * T + t;
          const n = visible(t, S, a);
          const { p } = rowProbs(q!, k!, row * D, kBase, n, D, a.scale);
          for (let j = 0; j < n; j++) {
            let dp = 0;
            for (let c = 0; c < D; c++) dp += g![row * D + c]! * v![kBase + j * D + c]!;
            const ds = p[j]! * (dp - delta![row]!) * a.scale;
            for (let c = 0; c < D; c++) {
              dv[kBase + j * D + c]! += p[j]! * g![row * D + c]!;
              dk[kBase + j * D + c]! += ds * q![row * D + c]!;
            }
          }
        }
      }
    const outK = dataOf(dkv!.handle);
    const outV = dataOf(dvv!.handle);
    const sk = storeAs(dkv!.dtype, backend.float64);
    const sv = storeAs(dvv!.dtype, backend.float64);
    for (let i = 0; i < dk.length; i++) {
      outK[i] = sk(dk[i]!);
      outV[i] = sv(dv[i]!);
    }
  },
);
