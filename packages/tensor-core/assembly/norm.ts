// Fused layer norm (kind 0) and RMS norm (kind 1) over the last axis of
// contiguous [rows, D] f32 data, forward and backward (contracts in
// src/ops/norms.ts). Optional pointers are 0 when absent.
import { rowSum } from './rows';

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** y = (x − mean)·rstd·w + b; saves mean (layer only) and rstd per row. */
export function norm_f32(
  kind: i32,
  x: usize,
  w: usize,
  b: usize,
  y: usize,
  meanOut: usize,
  rstdOut: usize,
  rows: i32,
  D: i32,
  eps: f32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>rows * tid) / nth);
  const r1 = <i32>((<i64>rows * (tid + 1)) / nth);
  for (let r = r0; r < r1; r++) {
    const px = x + <usize>r * <usize>D * 4;
    const py = y + <usize>r * <usize>D * 4;
    const mean: f32 = kind == 0 ? rowSum(px, D) / <f32>D : 0;
    const mv = f32x4.splat(mean);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const d = f32x4.sub(v128.load(px + <usize>j * 4), mv);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    let sq = hsum(acc);
    for (; j < D; j++) {
      const d = load<f32>(px + <usize>j * 4) - mean;
      sq += d * d;
    }
    const rstd: f32 = 1 / Mathf.sqrt(sq / <f32>D + eps);
    const rv = f32x4.splat(rstd);
    j = 0;
    for (; j + 4 <= D; j += 4) {
      const q = <usize>j * 4;
      let v = f32x4.mul(f32x4.sub(v128.load(px + q), mv), rv);
      if (w) v = f32x4.mul(v, v128.load(w + q));
      if (b) v = f32x4.add(v, v128.load(b + q));
      v128.store(py + q, v);
    }
    for (; j < D; j++) {
      const q = <usize>j * 4;
      let v = (load<f32>(px + q) - mean) * rstd;
      if (w) v *= load<f32>(w + q);
      if (b) v += load<f32>(b + q);
      store<f32>(py + q, v);
    }
    if (meanOut) store<f32>(meanOut + <usize>r * 4, mean);
    store<f32>(rstdOut + <usize>r * 4, rstd);
  }
}

/** dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w (mean(g) for layer norm only). */
export function norm_grad_input_f32(
  kind: i32,
  x: usize,
  dy: usize,
  meanIn: usize,
  rstdIn: usize,
  w: usize,
  dx: usize,
  rows: i32,
  D: i32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>rows * tid) / nth);
  const r1 = <i32>((<i64>rows * (tid + 1)) / nth);
  for (let r = r0; r < r1; r++) {
    const base = <usize>r * <usize>D * 4;
    const m: f32 = meanIn ? load<f32>(meanIn + <usize>r * 4) : 0;
    const s = load<f32>(rstdIn + <usize>r * 4);
    const mv = f32x4.splat(m);
    const sv = f32x4.splat(s);
    let ag = f32x4.splat(0);
    let agx = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const q = <usize>j * 4;
      let g = v128.load(dy + base + q);
      if (w) g = f32x4.mul(g, v128.load(w + q));
      const xh = f32x4.mul(f32x4.sub(v128.load(x + base + q), mv), sv);
      ag = f32x4.add(ag, g);
      agx = f32x4.add(agx, f32x4.mul(g, xh));
    }
    let sumG = hsum(ag);
    let sumGX = hsum(agx);
    for (; j < D; j++) {
      const q = <usize>j * 4;
      let g = load<f32>(dy + base + q);
      if (w) g *= load<f32>(w + q);
      const xh = (load<f32>(x + base + q) - m) * s;
      sumG += g;
      sumGX += g * xh;
    }
    const meanG = f32x4.splat(kind == 0 ? sumG / <f32>D : 0);
    const meanGX = f32x4.splat(sumGX / <f32>D);
    j = 0;
    for (; j + 4 <= D; j += 4) {
      const q = <usize>j * 4;
      let g = v128.load(dy + base + q);
      if (w) g = f32x4.mul(g, v128.load(w + q));
      const xh = f32x4.mul(f32x4.sub(v128.load(x + base + q), mv), sv);
      v128.store(
        dx + base + q,
        f32x4.mul(sv, f32x4.sub(f32x4.sub(g, meanG), f32x4.mul(xh, meanGX))),
      );
    }
    for (; j < D; j++) {
      const q = <usize>j * 4;
      let g = load<f32>(dy + base + q);
      if (w) g *= load<f32>(w + q);
      const xh = (load<f32>(x + base + q) - m) * s;
      store<f32>(
        dx + base + q,
        s * (g - f32x4.extract_lane(meanG, 0) - xh * f32x4.extract_lane(meanGX, 0)),
      );
    }
  }
}

/**
 * dw = Σ_rows dy·x̂, db = Σ_rows dy (either pointer 0 to skip). Threads split the
 * columns in strips of 4; each strip sums over rows in blocks of 128 for accuracy.
 */
export function norm_grad_params_f32(
  x: usize,
  dy: usize,
  meanIn: usize,
  rstdIn: usize,
  dw: usize,
  db: usize,
  rows: i32,
  D: i32,
  tid: i32,
  nth: i32,
): void {
  const strips = (D + 3) / 4;
  const s0 = <i32>((<i64>strips * tid) / nth);
  const s1 = <i32>((<i64>strips * (tid + 1)) / nth);
  const row = <usize>D * 4;
  for (let st = s0; st < s1; st++) {
    const col = st * 4;
    const lanes = min(4, D - col);
    let tw = f32x4.splat(0);
    let tb = f32x4.splat(0);
    for (let b0 = 0; b0 < rows; b0 += 128) {
      const b1 = min(rows, b0 + 128);
      let aw = f32x4.splat(0);
      let ab = f32x4.splat(0);
      for (let r = b0; r < b1; r++) {
        const q = <usize>r * row + <usize>col * 4;
        let g: v128;
        let xv: v128;
        if (lanes == 4) {
          g = v128.load(dy + q);
          xv = v128.load(x + q);
        } else {
          g = f32x4.splat(0);
          xv = f32x4.splat(0);
          g = f32x4.replace_lane(g, 0, load<f32>(dy + q));
          xv = f32x4.replace_lane(xv, 0, load<f32>(x + q));
          if (lanes > 1) {
            g = f32x4.replace_lane(g, 1, load<f32>(dy + q, 4));
            xv = f32x4.replace_lane(xv, 1, load<f32>(x + q, 4));
          }
          if (lanes > 2) {
            g = f32x4.replace_lane(g, 2, load<f32>(dy + q, 8));
            xv = f32x4.replace_lane(xv, 2, load<f32>(x + q, 8));
          }
        }
        const m = meanIn ? v128.load32_splat(meanIn + <usize>r * 4) : f32x4.splat(0);
        const xh = f32x4.mul(f32x4.sub(xv, m), v128.load32_splat(rstdIn + <usize>r * 4));
        aw = f32x4.add(aw, f32x4.mul(g, xh));
        ab = f32x4.add(ab, g);
      }
      tw = f32x4.add(tw, aw);
      tb = f32x4.add(tb, ab);
    }
    const o = <usize>col * 4;
    for (let l = 0; l < lanes; l++) {
      // Lane l of the strip: rotate it into lane 0.
      if (dw) store<f32>(dw + o + <usize>l * 4, f32x4.extract_lane(tw, 0));
      if (db) store<f32>(db + o + <usize>l * 4, f32x4.extract_lane(tb, 0));
      tw = v128.shuffle<i32>(tw, tw, 1, 2, 3, 0);
      tb = v128.shuffle<i32>(tb, tb, 1, 2, 3, 0);
    }
  }
}
