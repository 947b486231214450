/**
 * WGSL snippets for reading and writing every dtype. 16-bit floats are stored
 * as packed u32 words and converted in the kernel with integer arithmetic, so
 * results are bit-exact (round-to-nearest-even) whatever the adapter's own
 * float conversions do, and no `shader-f16` support is required.
 */
import type { DType } from '../../dtype.js';

/** WGSL element type of a binding that holds `dtype`. */
export function storageType(dtype: DType): 'f32' | 'i32' | 'u32' {
  if (dtype === 'f32') return 'f32';
  if (dtype === 'i32') return 'i32';
  return 'u32'; // u32, bool (0/1 words), and 16-bit floats (two per word)
}

/** Conversion functions every generated shader may call. */
export const WGSL_DTYPE_HELPERS = /* wgsl */ `
// NaN and inf must be runtime values: WGSL rejects them in constant expressions.
var<private> fathom_bits_zero: u32 = 0u;
fn fathom_nan() -> f32 { return bitcast<f32>(0x7fc00000u | fathom_bits_zero); }
fn fathom_inf() -> f32 { return bitcast<f32>(0x7f800000u | fathom_bits_zero); }
fn fathom_f16_to_f32(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    let v = f32(m) * 5.9604644775390625e-8;
    return select(v, -v, s != 0u);
  }
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn fathom_f32_to_f16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let exp = (bits >> 23u) & 0xffu;
  var mant = bits & 0x7fffffu;
  if (exp == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u); }
  let e = i32(exp) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var out = mant >> shift;
    if (rest > half || (rest == half && (out & 1u) == 1u)) { out = out + 1u; }
    return sign | out;
  }
  var out = (u32(e) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (out & 1u) == 1u)) { out = out + 1u; }
  return sign | out;
}
fn fathom_bf16_to_f32(h: u32) -> f32 {
  return bitcast<f32>(h << 16u);
}
fn fathom_f32_to_bf16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0u) { return ((bits >> 16u) | 0x40u) & 0xffffu; }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}
`;

/** WGSL expression reading element `index` (a u32 expression) of binding `name` holding `dtype`, as f32/i32/u32. */
export function loadExpr(name: string, dtype: DType, index: string): string {
  switch (dtype) {
    case 'f16':
      return `fathom_f16_to_f32((${name}[(${index}) >> 1u] >> (((${index}) & 1u) * 16u)) & 0xffffu)`;
    case 'bf16':
      return `fathom_bf16_to_f32((${name}[(${index}) >> 1u] >> (((${index}) & 1u) * 16u)) & 0xffffu)`;
    default:
      return `${name}[${index}]`;
  }
}

/** WGSL type a loaded value of `dtype` has. */
export function loadedType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype === 'f16' || dtype === 'bf16' ? 'f32' : storageType(dtype);
}

/** WGSL expression converting `value` of WGSL type `from` to what a 32-bit binding of `dtype` stores. */
export function storeExpr(
  dtype: DType,
  value: string,
  from: 'f32' | 'i32' | 'u32' | 'bool',
): string {
  if (from === 'bool')
    return dtype === 'bool' || dtype === 'u32'
      ? `select(0u, 1u, ${value})`
      : `${storageType(dtype)}(select(0u, 1u, ${value}))`;
  switch (dtype) {
    case 'bool':
      return `select(0u, 1u, ${value} != ${from}(0))`;
    case 'f16':
      return `fathom_f32_to_f16(f32(${value}))`;
    case 'bf16':
      return `fathom_f32_to_bf16(f32(${value}))`;
    default:
      return `${storageType(dtype)}(${value})`;
  }
}
