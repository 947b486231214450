/** Host-side encoding of values into the bytes a GPU buffer holds, and back. */
import type { HostArray } from '../../backend.js';
import type { DType } from '../../dtype.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../half.js';

/** Values of `dtype` as the bytes of device storage (padded to a multiple of 4). */
export function encodeHost(dtype: DType, values: ArrayLike<number>): ArrayBuffer {
  const n = values.length;
  if (dtype === 'f16' || dtype === 'bf16') {
    const bits = new Uint16Array(n + (n & 1));
    const conv = dtype === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
    for (let i = 0; i < n; i++) bits[i] = conv(values[i]!);
    return bits.buffer;
  }
  if (dtype === 'f32') return Float32Array.from(values).buffer;
  if (dtype === 'i32') return Int32Array.from(values).buffer;
  if (dtype === 'bool') return Uint32Array.from(values, (v) => (v ? 1 : 0)).buffer;
  return Uint32Array.from(values).buffer;
}

/** Decodes `count` values of `dtype` starting `skip` elements into `bytes`. */
export function decodeHost(
  dtype: DType,
  bytes: ArrayBuffer,
  skip: number,
  count: number,
): HostArray {
  if (dtype === 'f16' || dtype === 'bf16') {
    const bits = new Uint16Array(bytes, skip * 2, count);
    const conv = dtype === 'f16' ? f16BitsToF32 : bf16BitsToF32;
    return Float32Array.from(bits, conv);
  }
  if (dtype === 'f32') return new Float32Array(bytes, skip * 4, count).slice();
  if (dtype === 'i32') return new Int32Array(bytes, skip * 4, count).slice();
  if (dtype === 'bool') return Uint8Array.from(new Uint32Array(bytes, skip * 4, count));
  return new Uint32Array(bytes, skip * 4, count).slice();
}
