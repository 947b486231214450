// Row-wise f32 kernels over contiguous data: reductions of [outer, r, inner]
// over r, softmax and log-softmax over the last axis, and their gradients.
import { vexp, vlog } from './vmath';

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

function hmax(v: v128): f32 {
  return max(
    max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

function hmin(v: v128): f32 {
  return min(
    min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

/** Σ of a contiguous run, in 16 lanes. */
export function rowSum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const q = p + <usize>j * 4;
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  for (; j + 4 <= n; j += 4) a0 = f32x4.add(a0, v128.load(p + <usize>j * 4));
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; j < n; j++) s += load<f32>(p + <usize>j * 4);
  return s;
}

/** max of a contiguous run (NaN propagates; −inf when empty). */
export function rowMax(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(-Infinity);
  let a1 = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const q = p + <usize>j * 4;
    a0 = f32x4.max(a0, v128.load(q));
    a1 = f32x4.max(a1, v128.load(q, 16));
  }
  for (; j + 4 <= n; j += 4) a0 = f32x4.max(a0, v128.load(p + <usize>j * 4));
  let m = hmax(f32x4.max(a0, a1));
  for (; j < n; j++) m = max(m, load<f32>(p + <usize>j * 4));
  return m;
}

function rowMin(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(Infinity);
  let j = 0;
  for (; j + 4 <= n; j += 4) a0 = f32x4.min(a0, v128.load(p + <usize>j * 4));
  let m = hmin(a0);
  for (; j < n; j++) m = min(m, load<f32>(p + <usize>j * 4));
  return m;
}

const SUM = 0;
const MAX = 1;
const MIN = 2;

function fold(op: i32, a: v128, b: v128): v128 {
  if (op == SUM) return f32x4.add(a, b);
  if (op == MAX) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

function identity(op: i32): f32 {
  if (op == SUM) return 0;
  if (op == MAX) return -Infinity;
  return Infinity;
}

/** Reduces a 4-column strip of [r, inner] over r (two-level for sums' accuracy). */
function strip(op: i32, p: usize, r: i32, inner: i32, lanes: i32): v128 {
  const step = <usize>inner * 4;
  let total = f32x4.splat(identity(op));
  for (let b = 0; b < r; b += 128) {
    const end = min(r, b + 128);
    let acc = f32x4.splat(identity(op));
    let q = p + <usize>b * step;
    for (let k = b; k < end; k++) {
      let v: v128;
      if (lanes == 4) v = v128.load(q);
      else {
        v = f32x4.replace_lane(f32x4.splat(identity(op)), 0, load<f32>(q));
        if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(q, 4));
        if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(q, 8));
      }
      acc = inline.always(fold(op, acc, v));
      q += step;
    }
    total = fold(op, total, acc);
  }
  return total;
}

/** Reduces a 16-column strip of [r, inner] over r into d (two-level for sums' accuracy). */
function strip16(op: i32, p: usize, r: i32, inner: i32, divisor: f32, d: usize): void {
  const step = <usize>inner * 4;
  const id = f32x4.splat(identity(op));
  let t0 = id;
  let t1 = id;
  let t2 = id;
  let t3 = id;
  for (let b = 0; b < r; b += 128) {
    const end = min(r, b + 128);
    let a0 = id;
    let a1 = id;
    let a2 = id;
    let a3 = id;
    let q = p + <usize>b * step;
    for (let k = b; k < end; k++) {
      a0 = inline.always(fold(op, a0, v128.load(q)));
      a1 = inline.always(fold(op, a1, v128.load(q, 16)));
      a2 = inline.always(fold(op, a2, v128.load(q, 32)));
      a3 = inline.always(fold(op, a3, v128.load(q, 48)));
      q += step;
    }
    t0 = inline.always(fold(op, t0, a0));
    t1 = inline.always(fold(op, t1, a1));
    t2 = inline.always(fold(op, t2, a2));
    t3 = inline.always(fold(op, t3, a3));
  }
  if (op == SUM) {
    const dv = f32x4.splat(divisor);
    t0 = f32x4.div(t0, dv);
    t1 = f32x4.div(t1, dv);
    t2 = f32x4.div(t2, dv);
    t3 = f32x4.div(t3, dv);
  }
  v128.store(d, t0);
  v128.store(d, t1, 16);
  v128.store(d, t2, 32);
  v128.store(d, t3, 48);
}

function reduceLoop(
  op: i32,
  x: usize,
  y: usize,
  outer: i32,
  r: i32,
  inner: i32,
  divisor: f32,
  tid: i32,
  nth: i32,
): void {
  if (inner == 1) {
    const o0 = <i32>((<i64>outer * tid) / nth);
    const o1 = <i32>((<i64>outer * (tid + 1)) / nth);
    for (let o = o0; o < o1; o++) {
      const p = x + <usize>o * <usize>r * 4;
      let v: f32;
      if (op == SUM) v = rowSum(p, r) / divisor;
      else if (op == MAX) v = rowMax(p, r);
      else v = rowMin(p, r);
      store<f32>(y + <usize>o * 4, v);
    }
    return;
  }
  // Strips of 16 columns (a cache line per row); a last narrower strip goes 4 at a time.
  const strips = (inner + 15) / 16;
  const units = outer * strips;
  const u0 = <i32>((<i64>units * tid) / nth);
  const u1 = <i32>((<i64>units * (tid + 1)) / nth);
  for (let u = u0; u < u1; u++) {
    const o = u / strips;
    const col0 = (u - o * strips) * 16;
    const base = x + <usize>o * <usize>r * <usize>inner * 4;
    const d0 = y + <usize>o * <usize>inner * 4;
    if (col0 + 16 <= inner) {
      inline.always(strip16(op, base + <usize>col0 * 4, r, inner, divisor, d0 + <usize>col0 * 4));
      continue;
    }
    for (let col = col0; col < inner; col += 4) {
      const lanes = min(4, inner - col);
      let v = inline.always(strip(op, base + <usize>col * 4, r, inner, lanes));
      if (op == SUM) v = f32x4.div(v, f32x4.splat(divisor));
      const d = d0 + <usize>col * 4;
      if (lanes == 4) v128.store(d, v);
      else {
        store<f32>(d, f32x4.extract_lane(v, 0));
        if (lanes > 1) store<f32>(d, f32x4.extract_lane(v, 1), 4);
        if (lanes > 2) store<f32>(d, f32x4.extract_lane(v, 2), 8);
      }
    }
  }
}

/**
 * y[o, i] = fold over k of x[o, k, i] for contiguous x [outer, r, inner]; op 0 sum
 * (divided by `divisor`: 1 for sum, r for mean), 1 max, 2 min.
 */
export function reduce_f32(
  op: i32,
  x: usize,
  y: usize,
  outer: i32,
  r: i32,
  inner: i32,
  divisor: f32,
  tid: i32,
  nth: i32,
): void {
  if (op == SUM) inline.always(reduceLoop(SUM, x, y, outer, r, inner, divisor, tid, nth));
  else if (op == MAX) inline.always(reduceLoop(MAX, x, y, outer, r, inner, divisor, tid, nth));
  else inline.always(reduceLoop(MIN, x, y, outer, r, inner, divisor, tid, nth));
}

/** Softmax (kind 0) or log-softmax (kind 1) of each contiguous row of length `len`. */
export function softmax_f32(
  kind: i32,
  x: usize,
  y: usize,
  rows: i32,
  len: i32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>rows * tid) / nth);
  const r1 = <i32>((<i64>rows * (tid + 1)) / nth);
  for (let r = r0; r < r1; r++) {
    const px = x + <usize>r * <usize>len * 4;
    const py = y + <usize>r * <usize>len * 4;
    const m = f32x4.splat(rowMax(px, len));
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= len; j += 4) {
      const e = vexp(f32x4.sub(v128.load(px + <usize>j * 4), m));
      if (kind == 0) v128.store(py + <usize>j * 4, e);
      acc = f32x4.add(acc, e);
    }
    let s = hsum(acc);
    for (; j < len; j++) {
      const e = f32x4.extract_lane(
        vexp(f32x4.sub(f32x4.splat(load<f32>(px + <usize>j * 4)), m)),
        0,
      );
      if (kind == 0) store<f32>(py + <usize>j * 4, e);
      s += e;
    }
    if (kind == 0) {
      const inv = f32x4.splat(1 / s);
      const invs: f32 = 1 / s;
      j = 0;
      for (; j + 4 <= len; j += 4) {
        const q = py + <usize>j * 4;
        v128.store(q, f32x4.mul(v128.load(q), inv));
      }
      for (; j < len; j++) {
        const q = py + <usize>j * 4;
        store<f32>(q, load<f32>(q) * invs);
      }
    } else {
      // y = (x − m) − log Σ, as the reference's x − lse but keeping f32 precision.
      const ls = f32x4.splat(f32x4.extract_lane(vlog(f32x4.splat(s)), 0));
      j = 0;
      for (; j + 4 <= len; j += 4) {
        const q = <usize>j * 4;
        v128.store(py + q, f32x4.sub(f32x4.sub(v128.load(px + q), m), ls));
      }
      for (; j < len; j++) {
        const q = <usize>j * 4;
        store<f32>(
          py + q,
          load<f32>(px + q) - f32x4.extract_lane(m, 0) - f32x4.extract_lane(ls, 0),
        );
      }
    }
  }
}

/**
 * Gradient of softmax (kind 0: dx = y·(g − Σ g·y)) or log-softmax
 * (kind 1: dx = g − e^y·Σ g) over contiguous rows.
 */
export function softmax_grad_f32(
  kind: i32,
  y: usize,
  g: usize,
  dx: usize,
  rows: i32,
  len: i32,
  tid: i32,
  nth: i32,
): void {
  const r0 = <i32>((<i64>rows * tid) / nth);
  const r1 = <i32>((<i64>rows * (tid + 1)) / nth);
  for (let r = r0; r < r1; r++) {
    const base = <usize>r * <usize>len * 4;
    const py = y + base;
    const pg = g + base;
    const pd = dx + base;
    let s: f32;
    if (kind == 0) {
      let acc = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= len; j += 4) {
        const q = <usize>j * 4;
        acc = f32x4.add(acc, f32x4.mul(v128.load(py + q), v128.load(pg + q)));
      }
      s = hsum(acc);
      for (; j < len; j++) s += load<f32>(py + <usize>j * 4) * load<f32>(pg + <usize>j * 4);
    } else {
      s = rowSum(pg, len);
    }
    const sv = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= len; j += 4) {
      const q = <usize>j * 4;
      const yv = v128.load(py + q);
      const gv = v128.load(pg + q);
      const d =
        kind == 0 ? f32x4.mul(yv, f32x4.sub(gv, sv)) : f32x4.sub(gv, f32x4.mul(vexp(yv), sv));
      v128.store(pd + q, d);
    }
    for (; j < len; j++) {
      const q = <usize>j * 4;
      const yv = f32x4.splat(load<f32>(py + q));
      const gv = f32x4.splat(load<f32>(pg + q));
      const d =
        kind == 0 ? f32x4.mul(yv, f32x4.sub(gv, sv)) : f32x4.sub(gv, f32x4.mul(vexp(yv), sv));
      store<f32>(pd + q, f32x4.extract_lane(d, 0));
    }
  }
}
