// FNV-1a over the UTF-8 bytes of a string. Strings are encoded into one reusable scratch buffer
// so that hashing millions of short documents does not allocate a Uint8Array each time.

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
const FNV64_OFFSET_HI = 0xcbf29ce4;
const FNV64_OFFSET_LO = 0x84222325;
// The 64-bit prime is 2^40 + 0x1b3: multiplying by it is `h * 0x1b3 + (h << 40)`.
const FNV64_PRIME_LOW = 0x1b3;

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

function utf8(text: string): Uint8Array {
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  const worst = text.length * 3;
  if (worst > scratch.length) scratch = new Uint8Array(Math.max(worst, scratch.length * 2));
  const { written } = encoder.encodeInto(text, scratch);
  return scratch.subarray(0, written);
}

/**
 * 32-bit FNV-1a hash.
 *
 * @param input - a string (hashed as UTF-8) or raw bytes.
 * @returns an unsigned 32-bit integer.
 */
export function fnv1a32(input: string | Uint8Array): number {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  let h = FNV32_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i]!, FNV32_PRIME);
  }
  return h >>> 0;
}

/**
 * 64-bit FNV-1a hash as two unsigned 32-bit halves, computed without BigInt.
 *
 * @param input - a string (hashed as UTF-8) or raw bytes.
 * @returns `[hi, lo]`, the high and low 32 bits.
 */
export function fnv1a64Parts(input: string | Uint8Array): [hi: number, lo: number] {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  let hi = FNV64_OFFSET_HI;
  let lo = FNV64_OFFSET_LO;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    // Every partial product below stays under 2^53, so the doubles are exact; `>>> 0`
    // reduces modulo 2^32.
    const loProduct = lo * FNV64_PRIME_LOW;
    const carry = Math.floor(loProduct / 0x100000000);
    hi = (hi * FNV64_PRIME_LOW + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = loProduct >>> 0;
  }
  return [hi, lo];
}

/**
 * 64-bit FNV-1a hash.
 *
 * @param input - a string (hashed as UTF-8) or raw bytes.
 * @returns the hash as an unsigned 64-bit BigInt.
 */
export function fnv1a64(input: string | Uint8Array): bigint {
  const [hi, lo] = fnv1a64Parts(input);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * 64-bit FNV-1a hash as a 16-digit lower-case hexadecimal string (a compact map key).
 *
 * @param input - a string (hashed as UTF-8) or raw bytes.
 * @returns the hash in hexadecimal, zero-padded to 16 digits.
 */
export function fnv1a64Hex(input: string | Uint8Array): string {
  const [hi, lo] = fnv1a64Parts(input);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
