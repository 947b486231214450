/**
 * The two OCP FP8 formats (OCP 8-bit Floating Point Specification, 2023) and
 * host conversions to and from them.
 *
 * - `e4m3` is OCP's E4M3 ("e4m3fn" in PyTorch): bias 7, no infinities, one NaN
 *   mantissa per sign (S.1111.111), largest finite ±448, subnormals down to 2^-9.
 * - `e5m2` is IEEE-like: bias 15, ±inf (S.11111.00), NaN (S.11111.xx, xx ≠ 0),
 *   largest finite ±57344, subnormals down to 2^-16.
 *
 * Encoding rounds to nearest, ties to even. Overflow saturates to the largest
 * finite value by default for e4m3 (it has no infinity; OCP's non-saturating
 * mode gives NaN) and goes to ±inf for e5m2 (IEEE); `saturate` overrides both.
 */

/** The FP8 formats Fathom stores. */
export type Fp8Format = 'e4m3' | 'e5m2';

/** Bit layout and limits of one FP8 format. */
export interface Fp8FormatInfo {
  readonly name: Fp8Format;
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  /** Largest finite magnitude. */
  readonly max: number;
  /** Smallest normal magnitude. */
  readonly minNormal: number;
  /** Smallest subnormal magnitude (the subnormal spacing). */
  readonly minSubnormal: number;
  /** Whether the format has ±inf. */
  readonly hasInfinity: boolean;
  /** The code this library writes for NaN (sign bit clear). */
  readonly nanCode: number;
  /** Overflow behaviour when `saturate` is not given. */
  readonly saturateByDefault: boolean;
}

/** The two formats' parameters. */
export const FP8_FORMATS: Readonly<Record<Fp8Format, Fp8FormatInfo>> = {
  e4m3: {
    name: 'e4m3',
    exponentBits: 4,
    mantissaBits: 3,
    bias: 7,
    max: 448,
    minNormal: 2 ** -6,
    minSubnormal: 2 ** -9,
    hasInfinity: false,
    nanCode: 0x7f,
    saturateByDefault: true,
  },
  e5m2: {
    name: 'e5m2',
    exponentBits: 5,
    mantissaBits: 2,
    bias: 15,
    max: 57344,
    minNormal: 2 ** -14,
    minSubnormal: 2 ** -16,
    hasInfinity: true,
    nanCode: 0x7f,
    saturateByDefault: false,
  },
};

/** Throws unless `format` names an FP8 format. */
export function fp8Info(format: unknown, what: string): Fp8FormatInfo {
  if (format !== 'e4m3' && format !== 'e5m2')
    throw new TypeError(`${what}: got format ${String(format)}; expected 'e4m3' or 'e5m2'`);
  return FP8_FORMATS[format];
}

/** The number an FP8 code (0–255) denotes. */
export function decodeFp8(code: number, format: Fp8Format): number {
  const f = fp8Info(format, 'decodeFp8');
  if (!Number.isInteger(code) || code < 0 || code > 255)
    throw new RangeError(`decodeFp8: code is ${code}; expected an integer in [0, 255]`);
  const sign = code & 0x80 ? -1 : 1;
  const expField = (code >> f.mantissaBits) & ((1 << f.exponentBits) - 1);
  const mant = code & ((1 << f.mantissaBits) - 1);
  const expMax = (1 << f.exponentBits) - 1;
  if (f.hasInfinity && expField === expMax) return mant === 0 ? sign * Infinity : NaN;
  if (!f.hasInfinity && expField === expMax && mant === (1 << f.mantissaBits) - 1) return NaN;
  if (expField === 0) return sign * mant * f.minSubnormal;
  return sign * (1 + mant / (1 << f.mantissaBits)) * 2 ** (expField - f.bias);
}

/** Options of {@link encodeFp8}. */
export interface EncodeFp8Options {
  /** Clamp overflow (and ±inf) to ±max. Default: true for e4m3, false for e5m2. */
  saturate?: boolean;
}

/**
 * The FP8 code nearest to `x` (ties to even). `x` is first rounded to f32, as
 * the device kernels see it, so host and device agree bit for bit.
 */
export function encodeFp8(x: number, format: Fp8Format, options: EncodeFp8Options = {}): number {
  const f = fp8Info(format, 'encodeFp8');
  const saturate = options.saturate ?? f.saturateByDefault;
  const v = Math.fround(x);
  const sign = v < 0 || Object.is(v, -0) ? 0x80 : 0;
  if (Number.isNaN(v)) return f.nanCode;
  const a = Math.abs(v);
  const overflow = (): number =>
    saturate ? sign | maxCode(f) : f.hasInfinity ? sign | infCode(f) : sign | f.nanCode;
  if (a === Infinity) return overflow();
  if (a === 0) return sign;
  // Spacing of representable values around a: fixed below the normal range.
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  const quantum = a < f.minNormal ? f.minSubnormal : 2 ** (e - f.mantissaBits);
  const n = a / quantum; // exact: quantum is a power of two
  let r = Math.floor(n);
  const frac = n - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  const rounded = r * quantum;
  if (rounded > f.max) return overflow();
  if (rounded < f.minNormal) return sign | (rounded / f.minSubnormal);
  let re = Math.floor(Math.log2(rounded));
  if (2 ** re > rounded) re -= 1;
  const mant = (rounded / 2 ** re - 1) * (1 << f.mantissaBits);
  return sign | ((re + f.bias) << f.mantissaBits) | mant;
}

function maxCode(f: Fp8FormatInfo): number {
  return encodeFp8(f.max, f.name);
}

function infCode(f: Fp8FormatInfo): number {
  return ((1 << f.exponentBits) - 1) << f.mantissaBits;
}

/** Rounds `x` to the nearest value of `format` (ties to even), with the format's overflow rule. */
export function roundToFp8(x: number, format: Fp8Format, options: EncodeFp8Options = {}): number {
  return decodeFp8(encodeFp8(x, format, options), format);
}
