// Vector (f32x4) transcendental functions: Cephes single-precision polynomials
// (about 2 ulp), with the IEEE special cases of Math.exp/log/tanh restored.

function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** 2^n for i32 lanes n in [-126, 127]. */
function pow2(n: v128): v128 {
  return i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
}

/** Adding 1.5·2^23 rounds an f32 of magnitude < 2^22 to an integer held in the low mantissa bits. */
const ROUNDER: f32 = 12582912.0;

/** e^x; overflows to +inf, underflows through subnormals to 0, NaN stays NaN. */
export function vexp(x0: v128): v128 {
  // pmin/pmax (one instruction each) keep a NaN x: the comparison fails and x is returned.
  const x = f32x4.pmax(f32x4.pmin(x0, splat(88.8)), splat(-104.0));
  const t = f32x4.add(f32x4.mul(x, splat(1.4426950408889634)), splat(ROUNDER));
  const fx = f32x4.sub(t, splat(ROUNDER));
  const n = i32x4.sub(t, f32x4.splat(ROUNDER));
  let r = f32x4.sub(x, f32x4.mul(fx, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, splat(-2.1219444e-4)));
  const z = f32x4.mul(r, r);
  let y = splat(1.98756915e-4);
  y = f32x4.add(f32x4.mul(y, r), splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), splat(1));
  // Scale in two steps so that exponents beyond the normal range stay exact.
  const half = i32x4.shr_s(n, 1);
  return f32x4.mul(f32x4.mul(y, pow2(half)), pow2(i32x4.sub(n, half)));
}

/** Natural log; log(0) = -inf, log(x<0) = NaN, log(inf) = inf, subnormals handled. */
export function vlog(x0: v128): v128 {
  const tiny = f32x4.lt(x0, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x0, splat(8388608.0)), x0, tiny);
  const bits = xs;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  e = v128.bitselect(f32x4.sub(e, splat(23)), e, tiny);
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  const small = f32x4.lt(m, splat(0.7071067811865476));
  e = v128.bitselect(f32x4.sub(e, splat(1)), e, small);
  m = v128.bitselect(f32x4.sub(f32x4.add(m, m), splat(1)), f32x4.sub(m, splat(1)), small);
  const z = f32x4.mul(m, m);
  let y = splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, m), splat(-1.151461031e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(1.167699874e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(e, splat(-2.1219444e-4)));
  y = f32x4.sub(y, f32x4.mul(z, splat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(e, splat(0.693359375)));
  r = v128.bitselect(splat(-Infinity), r, f32x4.eq(x0, splat(0)));
  r = v128.bitselect(splat(Infinity), r, f32x4.eq(x0, splat(Infinity)));
  // x < 0 and NaN inputs give NaN.
  return v128.bitselect(splat(NaN), r, v128.not(f32x4.ge(x0, splat(0))));
}

/** tanh: odd polynomial near 0, 1 − 2/(e^{2|x|}+1) elsewhere. */
export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), splat(-3.33332819422e-1));
  const near = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = vexp(f32x4.add(ax, ax));
  const farAbs = f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1))));
  // Copy x's sign onto the far branch (NaN stays NaN through e).
  const far = v128.or(farAbs, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(near, far, f32x4.lt(ax, splat(0.625)));
}

/** 1/(1+e^{-x}). */
export function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1), f32x4.add(splat(1), vexp(f32x4.neg(x))));
}

/** erf(x): Numerical Recipes' erfc (|error| < 1.2e-7), as the WebGPU kernels use. */
export function verf(x: v128): v128 {
  const z = f32x4.abs(x);
  const t = f32x4.div(splat(1), f32x4.add(splat(1), f32x4.mul(splat(0.5), z)));
  let p = splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), splat(-1.26551223));
  const r = f32x4.mul(t, vexp(f32x4.sub(p, f32x4.mul(z, z))));
  return v128.bitselect(f32x4.sub(splat(1), r), f32x4.sub(r, splat(1)), f32x4.ge(x, splat(0)));
}
