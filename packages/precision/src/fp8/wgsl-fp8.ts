/**
 * WGSL conversions between f32 and the FP8 formats, in integer arithmetic on
 * the f32 bit pattern (round to nearest, ties to even), so every adapter gives
 * the same codes as the host conversions in `format.ts`.
 */
import { FP8_FORMATS, type Fp8Format } from './format.js';

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/**
 * WGSL functions `fp8_<format>_decode(code) -> f32` and
 * `fp8_<format>_encode(x, saturate) -> u32` for one format.
 */
export function wgslFp8(format: Fp8Format): string {
  const f = FP8_FORMATS[format];
  const m = f.mantissaBits;
  const expMax = (1 << f.exponentBits) - 1;
  const minNormalExp = 1 - f.bias; // e of the smallest normal
  const subShift = 23 + minNormalExp - m; // f32 mantissa bits below fp8's subnormal spacing, at e = minNormalExp
  const maxBits = f32Bits(f.max);
  const maxCode =
    (((expMax - (f.hasInfinity ? 1 : 0)) << m) | ((1 << m) - (f.hasInfinity ? 1 : 2))) >>> 0;
  const infCode = expMax << m;
  const keepShift = 23 - m;
  const half = 1 << (keepShift - 1);
  const restMask = (1 << keepShift) - 1;
  const nan = 'bitcast<f32>(0x7fc00000u | fp8_bits_zero)';
  const special = f.hasInfinity
    ? `if (e == ${expMax}u) {
    if (mt == 0u) { return bitcast<f32>(s | 0x7f800000u | fp8_bits_zero); }
    return ${nan};
  }`
    : `if (e == ${expMax}u && mt == ${(1 << m) - 1}u) { return ${nan}; }`;
  const overflow = f.hasInfinity
    ? `select(sign | ${infCode}u, sign | ${maxCode}u, saturate)`
    : `select(sign | ${f.nanCode}u, sign | ${maxCode}u, saturate)`;
  return /* wgsl */ `
fn fp8_${format}_decode(code: u32) -> f32 {
  let s = (code & 0x80u) << 24u;
  let e = (code >> ${m}u) & ${expMax}u;
  let mt = code & ${(1 << m) - 1}u;
  ${special}
  if (e == 0u) {
    let v = f32(mt) * ${f.minSubnormal};
    return select(v, -v, s != 0u);
  }
  return bitcast<f32>(s | ((e + ${127 - f.bias}u) << 23u) | (mt << ${keepShift}u));
}
fn fp8_${format}_encode(x: f32, saturate: bool) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 24u) & 0x80u;
  let a = bits & 0x7fffffffu;
  if (a > 0x7f800000u) { return ${f.nanCode}u; }
  if (a == 0x7f800000u) { return ${overflow}; }
  if (saturate && a >= ${maxBits}u) { return sign | ${maxCode}u; }
  let e = i32(a >> 23u) - 127;
  if (e < ${minNormalExp}) {
    if (a < 0x00800000u) { return sign; } // f32 subnormals are far below fp8's smallest subnormal
    let mant = (a & 0x7fffffu) | 0x800000u;
    let shift = u32(${subShift} - e);
    if (shift > 24u) { return sign; }
    let halfway = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var out = mant >> shift;
    if (rest > halfway || (rest == halfway && (out & 1u) == 1u)) { out = out + 1u; }
    return sign | out; // a carry into the exponent field is the smallest normal
  }
  if (e > ${expMax - f.bias}) { return ${overflow}; }
  var out = (u32(e + ${f.bias}) << ${m}u) | ((a >> ${keepShift}u) & ${(1 << m) - 1}u);
  let rest = a & ${restMask}u;
  if (rest > ${half}u || (rest == ${half}u && (out & 1u) == 1u)) { out = out + 1u; }
  if (out > ${maxCode}u) { return ${overflow}; }
  return sign | out;
}
`;
}

/** Both formats' WGSL conversions plus the runtime-zero that keeps NaN/inf out of constant expressions. */
export const WGSL_FP8 = `var<private> fp8_bits_zero: u32 = 0u;\n${wgslFp8('e4m3')}\n${wgslFp8('e5m2')}`;
