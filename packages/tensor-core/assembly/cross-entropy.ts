// Fused softmax cross-entropy over contiguous f32 logits [N, C] with i32
// targets [N] (contracts in src/ops/cross-entropy.ts).
import { rowMax, rowSum } from './rows';
import { vexp, vlog } from './vmath';

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/**
 * Per row: lse = (m, log Σ e^{x−m}) and the row's loss (0 for an ignored row,
 * NaN for a target outside [0, C)), label-smoothed with `eps`.
 */
export function cross_entropy_f32(
  x: usize,
  t: usize,
  rowLoss: usize,
  lse: usize,
  N: i32,
  C: i32,
  ignoreIndex: i32,
  eps: f32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>N * tid) / nth);
  const r1 = <i32>((<i64>N * (tid + 1)) / nth);
  for (let r = r0; r < r1; r++) {
    const px = x + <usize>r * <usize>C * 4;
    const m = rowMax(px, C);
    const mv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= C; j += 4)
      acc = f32x4.add(acc, vexp(f32x4.sub(v128.load(px + <usize>j * 4), mv)));
    let s = hsum(acc);
    for (; j < C; j++)
      s += f32x4.extract_lane(vexp(f32x4.splat(load<f32>(px + <usize>j * 4) - m)), 0);
    const logS = f32x4.extract_lane(vlog(f32x4.splat(s)), 0);
    store<f32>(lse + <usize>r * 8, m);
    store<f32>(lse + <usize>r * 8 + 4, logS);
    const target = load<i32>(t + <usize>r * 4);
    let loss: f32 = 0;
    if (target != ignoreIndex) {
      if (target < 0 || target >= C) loss = NaN;
      else {
        loss = (1 - eps) * (m - load<f32>(px + <usize>target * 4) + logS);
        if (eps > 0) loss += eps * (m + logS - rowSum(px, C) / <f32>C);
      }
    }
    store<f32>(rowLoss + <usize>r * 4, loss);
  }
}

/**
 * dx = (softmax − smoothed one-hot)·scale, scale = g[r] (perRow) or g[0]/divisor;
 * ignored rows get 0, rows with an out-of-range target NaN.
 */
export function cross_entropy_grad_f32(
  x: usize,
  t: usize,
  lse: usize,
  g: usize,
  perRow: i32,
  divisor: f32,
  dx: usize,
  N: i32,
  C: i32,
  ignoreIndex: i32,
  eps: f32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>N * tid) / nth);
  const r1 = <i32>((<i64>N * (tid + 1)) / nth);
  const base: f32 = eps / <f32>C;
  for (let r = r0; r < r1; r++) {
    const px = x + <usize>r * <usize>C * 4;
    const pd = dx + <usize>r * <usize>C * 4;
    const target = load<i32>(t + <usize>r * 4);
    if (target == ignoreIndex || target < 0 || target >= C) {
      const v: f32 = target == ignoreIndex ? 0 : NaN;
      for (let j = 0; j < C; j++) store<f32>(pd + <usize>j * 4, v);
      continue;
    }
    const scale: f32 = perRow ? load<f32>(g + <usize>r * 4) : load<f32>(g) / divisor;
    const m = v128.load32_splat(lse + <usize>r * 8);
    const ls = v128.load32_splat(lse + <usize>r * 8 + 4);
    const sv = f32x4.splat(scale);
    const bv = f32x4.splat(base);
    let j = 0;
    for (; j + 4 <= C; j += 4) {
      const q = <usize>j * 4;
      const p = vexp(f32x4.sub(f32x4.sub(v128.load(px + q), m), ls));
      v128.store(pd + q, f32x4.mul(f32x4.sub(p, bv), sv));
    }
    for (; j < C; j++) {
      const q = <usize>j * 4;
      const p = vexp(f32x4.sub(f32x4.sub(f32x4.splat(load<f32>(px + q)), m), ls));
      store<f32>(pd + q, f32x4.extract_lane(f32x4.mul(f32x4.sub(p, bv), sv), 0));
    }
    const q = pd + <usize>target * 4;
    store<f32>(q, load<f32>(q) - (1 - eps) * scale);
  }
}
