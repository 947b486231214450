/** Element types a tensor can hold. */
export type DType = 'f32' | 'f16' | 'bf16' | 'i32' | 'u32' | 'bool';

/** Every dtype, in promotion order from narrowest to widest within each kind. */
export const DTYPES: readonly DType[] = ['bool', 'u32', 'i32', 'bf16', 'f16', 'f32'];

/** Bytes one element occupies in device storage. `bool` is stored as a 32-bit word (WGSL has no 8-bit storage). */
export function byteSize(dtype: DType): number {
  return dtype === 'f16' || dtype === 'bf16' ? 2 : 4;
}

/** True for `f32`, `f16` and `bf16`. */
export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
}

/** True for dtypes stored in 16 bits. */
export function isHalf(dtype: DType): dtype is 'f16' | 'bf16' {
  return dtype === 'f16' || dtype === 'bf16';
}

/** Throws unless `value` names a dtype. */
export function assertDType(value: unknown, what: string): asserts value is DType {
  if (typeof value !== 'string' || !(DTYPES as readonly string[]).includes(value)) {
    throw new TypeError(
      `${what}: got dtype ${String(value)}; expected one of ${DTYPES.join(', ')}`,
    );
  }
}

/**
 * The dtype of a binary op's result (PyTorch's rules restricted to Fathom's dtypes):
 * any float beats any integer; f16 with bf16 gives f32; i32 with u32 gives i32; bool
 * is the narrowest.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const fa = isFloat(a);
  const fb = isFloat(b);
  if (fa && fb) return a === 'f32' || b === 'f32' || a !== b ? 'f32' : a;
  if (fa) return a;
  if (fb) return b;
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  return 'i32';
}

/** The type arithmetic runs in for a dtype: floats compute in f32, integers in themselves. */
export function computeType(dtype: DType): 'f32' | 'i32' | 'u32' {
  if (isFloat(dtype)) return 'f32';
  return dtype === 'i32' ? 'i32' : 'u32';
}
