/**
 * Philox4x32-10 in WGSL, the twin of `random/philox.ts`: u32 arithmetic only,
 * with the 32×32→64-bit product's high word built from 16-bit halves (WGSL has
 * no mulhi and no 64-bit integers). Outputs are bit-identical to the TypeScript
 * version, which the known-answer tests check on both.
 */
import { PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1 } from '../../random/philox.js';

const hex = (v: number): string => `0x${v.toString(16)}u`;

/** WGSL functions `philox_mulhi`, `philox4x32_10`, `philox_block`, `philox_uniform`, `philox_ln`, `philox_cos_sin`, `philox_normals`. */
export const WGSL_PHILOX = /* wgsl */ `
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}
fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = counter;
  var k = key;
  for (var round = 0u; round < ${PHILOX_ROUNDS}u; round = round + 1u) {
    if (round > 0u) { k = k + vec2<u32>(${hex(PHILOX_W0)}, ${hex(PHILOX_W1)}); }
    let hi0 = philox_mulhi(${hex(PHILOX_M0)}, x.x);
    let lo0 = ${hex(PHILOX_M0)} * x.x;
    let hi1 = philox_mulhi(${hex(PHILOX_M1)}, x.z);
    let lo1 = ${hex(PHILOX_M1)} * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);
  }
  return x;
}
// Block \`b\` of a stream starting at (counter, key): a 64-bit add on counter words 0-1.
fn philox_block(counter: vec4<u32>, key: vec2<u32>, b: u32) -> vec4<u32> {
  let lo = counter.x + b;
  let hi = counter.y + select(0u, 1u, lo < b);
  return philox4x32_10(vec4<u32>(lo, hi, counter.z, counter.w), key);
}
fn philox_uniform(w: u32) -> f32 {
  return f32(w >> 8u) * 5.9604644775390625e-8;
}
// Natural logarithm of a positive normal f32, accurate to a few ulps relative even near 1
// (where built-in log may only bound the absolute error): x = m·2^e with m in [√½, √2),
// ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, series to s^9.
fn philox_ln(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  var e = i32(bits >> 23u) - 127;
  var m = bitcast<f32>((bits & 0x7fffffu) | 0x3f800000u);
  if (m > 1.4142135) { m = m * 0.5; e = e + 1; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let series = s * (2.0 + s2 * (0.6666667 + s2 * (0.4 + s2 * (0.2857143 + s2 * 0.2222222))));
  return f32(e) * 0.6931472 + series;
}
// (cos, sin) of 2π·k/2^24 for k < 2^24: the quadrant and the reflection about π/4 come
// from k's bits exactly, then Taylor polynomials on [0, π/4] (truncation below 2e-9).
fn philox_cos_sin(k: u32) -> vec2<f32> {
  let quadrant = k >> 22u;
  var m = k & 0x3fffffu;
  let reflect = m > 0x200000u;
  if (reflect) { m = 0x400000u - m; }
  let x = f32(m) * 3.7450702829239286e-7;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-0.16666667 + x2 * (8.3333333e-3 + x2 * (-1.9841270e-4 + x2 * 2.7557319e-6))));
  let c = 1.0 + x2 * (-0.5 + x2 * (4.1666667e-2 + x2 * (-1.3888889e-3 + x2 * (2.4801587e-5 + x2 * -2.7557319e-7))));
  let cs = select(vec2<f32>(c, s), vec2<f32>(s, c), reflect);
  switch quadrant {
    case 0u: { return cs; }
    case 1u: { return vec2<f32>(-cs.y, cs.x); }
    case 2u: { return -cs; }
    default: { return vec2<f32>(cs.y, -cs.x); }
  }
}
// Box-Muller on word pairs (x,y) and (z,w); see normalsOfBlock in random/philox.ts.
fn philox_normals(r: vec4<u32>) -> vec4<f32> {
  let ra = sqrt(-2.0 * philox_ln(f32((r.x >> 8u) + 1u) * 5.9604644775390625e-8));
  let rb = sqrt(-2.0 * philox_ln(f32((r.z >> 8u) + 1u) * 5.9604644775390625e-8));
  let ta = philox_cos_sin(r.y >> 8u);
  let tb = philox_cos_sin(r.w >> 8u);
  return vec4<f32>(ra * ta.x, ra * ta.y, rb * tb.x, rb * tb.y);
}
`;
