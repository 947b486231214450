/**
 * Power-of-two block scales. A block whose largest magnitude is `amax` gets
 * scale 2^k with k the smallest integer such that amax ≤ max · 2^k (max being
 * the format's largest finite value), clamped to k ≥ −126 so the scale and its
 * reciprocal are normal f32 numbers. Quantising is then `encode(x · 2^-k)` and
 * dequantising `decode(code) · 2^k`: both multiplications are exact, so every
 * backend produces the same codes (an `amax / max` scale would need a division
 * that WGSL only promises to 2.5 ulp). This is the scale format of OCP's
 * microscaling (MX) formats and of DeepSeek-V3.1's UE8M0 scales; it uses at
 * most one binade less of the fp8 range than an exact amax/max scale.
 */
import type { Fp8FormatInfo } from './format.js';

/** Exponent of the largest power of two not above `x` (x > 0, finite). */
export function floorLog2(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e -= 1;
  if (2 ** (e + 1) <= x) e += 1;
  return e;
}

/** Smallest exponent k allowed for a scale (2^-126, the smallest normal f32). */
export const MIN_SCALE_EXPONENT = -126;

/** The scale of a block with largest magnitude `amax`: 1 for an all-zero block, NaN when amax is not finite. */
export function pow2Scale(amax: number, format: Fp8FormatInfo): number {
  if (amax === 0) return 1;
  if (!Number.isFinite(amax)) return NaN;
  let k = floorLog2(amax) - floorLog2(format.max);
  if (amax > format.max * 2 ** k) k += 1;
  return 2 ** Math.max(k, MIN_SCALE_EXPONENT);
}

/** WGSL `fp8_pow2_scale(amaxBits) -> f32` for a format (same rule as {@link pow2Scale}). */
export function wgslPow2Scale(format: Fp8FormatInfo): string {
  const emax = floorLog2(format.max);
  // Fraction bits of max / 2^emax (1.75 for both OCP formats → 0x600000).
  const maxFrac = Math.round((format.max / 2 ** emax - 1) * 2 ** 23);
  return /* wgsl */ `
fn fp8_${format.name}_scale(a: u32) -> f32 {
  if (a == 0u) { return 1.0; }
  if (a >= 0x7f800000u) { return bitcast<f32>(0x7fc00000u | fp8_bits_zero); }
  var e: i32;
  var frac: u32;
  if (a < 0x800000u) {
    let lead = firstLeadingBit(a);
    e = i32(lead) - 149;
    frac = (a << (23u - lead)) & 0x7fffffu;
  } else {
    e = i32(a >> 23u) - 127;
    frac = a & 0x7fffffu;
  }
  var k = e - ${emax} + select(0, 1, frac > ${maxFrac}u);
  k = max(k, ${MIN_SCALE_EXPONENT});
  return bitcast<f32>(u32(k + 127) << 23u);
}
`;
}
