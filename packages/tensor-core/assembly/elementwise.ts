// Elementwise f32 kernels: unary ops and their gradients over contiguous data,
// binary ops over [outer, inner] with each operand full, scalar, a row repeated
// over outer, or a column repeated over inner; strided 32-bit copies.
import { verf, vexp, vlog, vsigmoid, vtanh } from './vmath';

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;

// Unary op codes (kept in step with src/backends/wasm/op-codes.ts).
const NEG = 0;
const ABS = 1;
const EXP = 2;
const LOG = 3;
const SQRT = 4;
const RSQRT = 5;
const TANH = 6;
const SIGMOID = 7;
const RELU = 8;
const SILU = 9;
const GELU_TANH = 10;
const GELU_ERF = 11;
const SQUARE = 12;
const RECIPROCAL = 13;
const FLOOR = 14;
const CEIL = 15;
// 16: round (the switch's default).

function splat(x: f32): v128 {
  return f32x4.splat(x);
}

function geluTanhInner(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  return vtanh(f32x4.mul(splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(splat(GELU_C), x3))));
}

/** g · dy/dx for the differentiable unary ops. */
function unaryGrad(op: i32, x: v128, y: v128, g: v128): v128 {
  if (op == NEG) return f32x4.neg(g);
  if (op == EXP) return f32x4.mul(g, y);
  if (op == LOG) return f32x4.mul(g, f32x4.div(splat(1), x));
  if (op == SQRT) return f32x4.mul(g, f32x4.div(splat(0.5), y));
  if (op == RSQRT) return f32x4.mul(g, f32x4.mul(f32x4.mul(f32x4.mul(splat(-0.5), y), y), y));
  if (op == TANH) return f32x4.mul(g, f32x4.sub(splat(1), f32x4.mul(y, y)));
  if (op == SIGMOID) return f32x4.mul(g, f32x4.mul(y, f32x4.sub(splat(1), y)));
  if (op == RELU) return f32x4.mul(g, v128.and(f32x4.gt(x, splat(0)), splat(1)));
  if (op == SILU) {
    const s = vsigmoid(x);
    return f32x4.mul(g, f32x4.mul(s, f32x4.add(splat(1), f32x4.mul(x, f32x4.sub(splat(1), s)))));
  }
  if (op == GELU_TANH) {
    const t = geluTanhInner(x);
    const left = f32x4.mul(splat(0.5), f32x4.add(splat(1), t));
    const dt = f32x4.mul(
      f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.sub(splat(1), f32x4.mul(t, t))),
      f32x4.mul(
        splat(SQRT_2_OVER_PI),
        f32x4.add(splat(1), f32x4.mul(splat(3 * GELU_C), f32x4.mul(x, x))),
      ),
    );
    return f32x4.mul(g, f32x4.add(left, dt));
  }
  if (op == GELU_ERF) {
    const cdf = f32x4.mul(
      splat(0.5),
      f32x4.add(splat(1), verf(f32x4.mul(x, splat(0.7071067811865476)))),
    );
    const pdf = f32x4.mul(
      f32x4.mul(x, splat(0.3989422804014327)),
      vexp(f32x4.mul(splat(-0.5), f32x4.mul(x, x))),
    );
    return f32x4.mul(g, f32x4.add(cdf, pdf));
  }
  if (op == SQUARE) return f32x4.mul(g, f32x4.add(x, x));
  // RECIPROCAL
  return f32x4.mul(g, f32x4.neg(f32x4.mul(y, y)));
}

function chunk(n: i32, tid: i32, nth: i32): i64 {
  const lo = <i32>(((<i64>n * tid) / nth) & ~3);
  const hi = tid + 1 == nth ? n : <i32>(((<i64>n * (tid + 1)) / nth) & ~3);
  return ((<i64>hi) << 32) | (<i64>lo);
}

// One loop per op (written out so that the optimizer cannot merge them into one loop
// that tests the op code for every vector).
function uNeg(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.neg(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.neg(x), 0));
  }
}
function uAbs(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.abs(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.abs(x), 0));
  }
}
function uExp(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, vexp(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(vexp(x), 0));
  }
}
function uLog(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, vlog(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(vlog(x), 0));
  }
}
function uSqrt(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.sqrt(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.sqrt(x), 0));
  }
}
function uRsqrt(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.div(splat(1), f32x4.sqrt(x)));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.div(splat(1), f32x4.sqrt(x)), 0));
  }
}
function uTanh(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, vtanh(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(vtanh(x), 0));
  }
}
function uSigmoid(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, vsigmoid(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(vsigmoid(x), 0));
  }
}
function uRelu(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.max(x, splat(0)));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.max(x, splat(0)), 0));
  }
}
function uSilu(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.mul(x, vsigmoid(x)));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.mul(x, vsigmoid(x)), 0));
  }
}
function uGeluTanh(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(
      y + <usize>i * 4,
      f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), geluTanhInner(x))),
    );
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(
      y + <usize>i * 4,
      f32x4.extract_lane(
        f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), geluTanhInner(x))),
        0,
      ),
    );
  }
}
function uGeluErf(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(
      y + <usize>i * 4,
      f32x4.mul(
        f32x4.mul(splat(0.5), x),
        f32x4.add(splat(1), verf(f32x4.mul(x, splat(0.7071067811865476)))),
      ),
    );
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(
      y + <usize>i * 4,
      f32x4.extract_lane(
        f32x4.mul(
          f32x4.mul(splat(0.5), x),
          f32x4.add(splat(1), verf(f32x4.mul(x, splat(0.7071067811865476)))),
        ),
        0,
      ),
    );
  }
}
function uSquare(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.mul(x, x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.mul(x, x), 0));
  }
}
function uReciprocal(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.div(splat(1), x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.div(splat(1), x), 0));
  }
}
function uFloor(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.floor(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.floor(x), 0));
  }
}
function uCeil(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.ceil(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.ceil(x), 0));
  }
}
function uRound(xp: usize, y: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const x = v128.load(xp + <usize>i * 4);
    v128.store(y + <usize>i * 4, f32x4.nearest(x));
  }
  for (; i < hi; i++) {
    const x = f32x4.splat(load<f32>(xp + <usize>i * 4));
    store<f32>(y + <usize>i * 4, f32x4.extract_lane(f32x4.nearest(x), 0));
  }
}

/** y[i] = op(x[i]) for i in this thread's share of [0, n). */
export function unary_f32(op: i32, x: usize, y: usize, n: i32, tid: i32, nth: i32): void {
  const c = chunk(n, tid, nth);
  const lo = <i32>c;
  const hi = <i32>(c >> 32);
  switch (op) {
    case NEG:
      uNeg(x, y, lo, hi);
      break;
    case ABS:
      uAbs(x, y, lo, hi);
      break;
    case EXP:
      uExp(x, y, lo, hi);
      break;
    case LOG:
      uLog(x, y, lo, hi);
      break;
    case SQRT:
      uSqrt(x, y, lo, hi);
      break;
    case RSQRT:
      uRsqrt(x, y, lo, hi);
      break;
    case TANH:
      uTanh(x, y, lo, hi);
      break;
    case SIGMOID:
      uSigmoid(x, y, lo, hi);
      break;
    case RELU:
      uRelu(x, y, lo, hi);
      break;
    case SILU:
      uSilu(x, y, lo, hi);
      break;
    case GELU_TANH:
      uGeluTanh(x, y, lo, hi);
      break;
    case GELU_ERF:
      uGeluErf(x, y, lo, hi);
      break;
    case SQUARE:
      uSquare(x, y, lo, hi);
      break;
    case RECIPROCAL:
      uReciprocal(x, y, lo, hi);
      break;
    case FLOOR:
      uFloor(x, y, lo, hi);
      break;
    case CEIL:
      uCeil(x, y, lo, hi);
      break;
    default:
      uRound(x, y, lo, hi);
  }
}

function gradLoop(op: i32, x: usize, y: usize, g: usize, dx: usize, lo: i32, hi: i32): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const o = <usize>i * 4;
    v128.store(
      dx + o,
      inline.always(unaryGrad(op, v128.load(x + o), v128.load(y + o), v128.load(g + o))),
    );
  }
  for (; i < hi; i++) {
    const o = <usize>i * 4;
    const r = unaryGrad(
      op,
      f32x4.splat(load<f32>(x + o)),
      f32x4.splat(load<f32>(y + o)),
      f32x4.splat(load<f32>(g + o)),
    );
    store<f32>(dx + o, f32x4.extract_lane(r, 0));
  }
}

/** dx[i] = g[i] · op'(x[i], y[i]) for this thread's share of [0, n). */
export function unary_grad_f32(
  op: i32,
  x: usize,
  y: usize,
  g: usize,
  dx: usize,
  n: i32,
  tid: i32,
  nth: i32,
): void {
  const c = chunk(n, tid, nth);
  const lo = <i32>c;
  const hi = <i32>(c >> 32);
  switch (op) {
    case NEG:
      inline.always(gradLoop(NEG, x, y, g, dx, lo, hi));
      break;
    case EXP:
      inline.always(gradLoop(EXP, x, y, g, dx, lo, hi));
      break;
    case LOG:
      inline.always(gradLoop(LOG, x, y, g, dx, lo, hi));
      break;
    case SQRT:
      inline.always(gradLoop(SQRT, x, y, g, dx, lo, hi));
      break;
    case RSQRT:
      inline.always(gradLoop(RSQRT, x, y, g, dx, lo, hi));
      break;
    case TANH:
      inline.always(gradLoop(TANH, x, y, g, dx, lo, hi));
      break;
    case SIGMOID:
      inline.always(gradLoop(SIGMOID, x, y, g, dx, lo, hi));
      break;
    case RELU:
      inline.always(gradLoop(RELU, x, y, g, dx, lo, hi));
      break;
    case SILU:
      inline.always(gradLoop(SILU, x, y, g, dx, lo, hi));
      break;
    case GELU_TANH:
      inline.always(gradLoop(GELU_TANH, x, y, g, dx, lo, hi));
      break;
    case GELU_ERF:
      inline.always(gradLoop(GELU_ERF, x, y, g, dx, lo, hi));
      break;
    case SQUARE:
      inline.always(gradLoop(SQUARE, x, y, g, dx, lo, hi));
      break;
    default:
      inline.always(gradLoop(RECIPROCAL, x, y, g, dx, lo, hi));
  }
}

// Binary op codes.
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAX = 4;
const MIN = 5;

function binaryOp(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == MAX) return f32x4.max(a, b);
  return f32x4.min(a, b);
}

// Operand modes: where element (row, j) of an [outer, inner] operand lives.
const FULL = 0;
const SCALAR = 1;
// 2: a row repeated over outer (read like FULL from the operand's base).
const COL = 3;

function segment(
  op: i32,
  aSplat: bool,
  bSplat: bool,
  a: usize,
  b: usize,
  out: usize,
  j0: i32,
  j1: i32,
): void {
  let j = j0;
  const av = aSplat ? v128.load32_splat(a) : f32x4.splat(0);
  const bv = bSplat ? v128.load32_splat(b) : f32x4.splat(0);
  for (; j + 4 <= j1; j += 4) {
    const o = <usize>j * 4;
    const x = aSplat ? av : v128.load(a + o);
    const y = bSplat ? bv : v128.load(b + o);
    v128.store(out + o, inline.always(binaryOp(op, x, y)));
  }
  for (; j < j1; j++) {
    const o = <usize>j * 4;
    const x = aSplat ? av : f32x4.splat(load<f32>(a + o));
    const y = bSplat ? bv : f32x4.splat(load<f32>(b + o));
    store<f32>(out + o, f32x4.extract_lane(binaryOp(op, x, y), 0));
  }
}

function rowBase(p: usize, mode: i32, row: i32, inner: i32): usize {
  if (mode == FULL) return p + <usize>row * <usize>inner * 4;
  if (mode == COL) return p + <usize>row * 4;
  return p;
}

function binaryLoop(
  op: i32,
  a: usize,
  ma: i32,
  b: usize,
  mb: i32,
  out: usize,
  inner: i32,
  lo: i32,
  hi: i32,
): void {
  const aSplat = ma == SCALAR || ma == COL;
  const bSplat = mb == SCALAR || mb == COL;
  let e = lo;
  while (e < hi) {
    const row = e / inner;
    const j0 = e - row * inner;
    const j1 = min(inner, j0 + (hi - e));
    // Full operands index the row from its start; row/scalar/col operands from their base.
    const pa = rowBase(a, ma, row, inner);
    const pb = rowBase(b, mb, row, inner);
    const po = out + <usize>row * <usize>inner * 4;
    if (!aSplat && !bSplat) inline.always(segment(op, false, false, pa, pb, po, j0, j1));
    else if (!aSplat) inline.always(segment(op, false, true, pa, pb, po, j0, j1));
    else if (!bSplat) inline.always(segment(op, true, false, pa, pb, po, j0, j1));
    else inline.always(segment(op, true, true, pa, pb, po, j0, j1));
    e += j1 - j0;
  }
}

/**
 * out[row, j] = op(a[row, j], b[row, j]) over [outer, inner], each operand read
 * per its mode (0 full, 1 scalar, 2 row of `inner`, 3 column of `outer`).
 */
export function binary_f32(
  op: i32,
  a: usize,
  ma: i32,
  b: usize,
  mb: i32,
  out: usize,
  outer: i32,
  inner: i32,
  tid: i32,
  nth: i32,
): void {
  const c = chunk(outer * inner, tid, nth);
  const lo = <i32>c;
  const hi = <i32>(c >> 32);
  switch (op) {
    case ADD:
      inline.always(binaryLoop(ADD, a, ma, b, mb, out, inner, lo, hi));
      break;
    case SUB:
      inline.always(binaryLoop(SUB, a, ma, b, mb, out, inner, lo, hi));
      break;
    case MUL:
      inline.always(binaryLoop(MUL, a, ma, b, mb, out, inner, lo, hi));
      break;
    case DIV:
      inline.always(binaryLoop(DIV, a, ma, b, mb, out, inner, lo, hi));
      break;
    case MAX:
      inline.always(binaryLoop(MAX, a, ma, b, mb, out, inner, lo, hi));
      break;
    default:
      inline.always(binaryLoop(MIN, a, ma, b, mb, out, inner, lo, hi));
  }
}

/**
 * Gathers a strided 32-bit view of shape [n0, n1, n2, n3] (element strides s0..s3)
 * into contiguous `out`. Threads split the n0·n1·n2 lines.
 */
export function copy32(
  x: usize,
  out: usize,
  n0: i32,
  n1: i32,
  n2: i32,
  n3: i32,
  s0: i32,
  s1: i32,
  s2: i32,
  s3: i32,
  tid: i32,
  nth: i32,
): void {
  const lines = n0 * n1 * n2;
  const l0 = <i32>((<i64>lines * tid) / nth);
  const l1 = <i32>((<i64>lines * (tid + 1)) / nth);
  for (let l = l0; l < l1; l++) {
    const i2 = l % n2;
    const r = l / n2;
    const i1 = r % n1;
    const i0 = r / n1;
    const src = x + <usize>(i0 * s0 + i1 * s1 + i2 * s2) * 4;
    const dst = out + <usize>l * <usize>n3 * 4;
    if (s3 == 1) {
      memory.copy(dst, src, <usize>n3 * 4);
    } else {
      const step = <usize>s3 * 4;
      let p = src;
      for (let j = 0; j < n3; j++) {
        store<u32>(dst + <usize>j * 4, load<u32>(p));
        p += step;
      }
    }
  }
}
