/** Moving tensors in and out of safetensors files. */
import { readFile } from 'node:fs/promises';
import {
  type DType,
  type Device,
  type Tensor,
  f16BitsToF32,
  bf16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  fromArray,
} from '@fathom/tensor-core';
import { writeFileAtomic } from './atomic-write.js';
import {
  type RawTensor,
  type SafetensorsDType,
  SafetensorsError,
  parseSafetensors,
  serializeSafetensors,
} from './safetensors.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN)
    throw new SafetensorsError(
      'this host is big-endian; safetensors data is little-endian and no byte swapping is implemented',
    );
}

const TO_FILE: Record<DType, SafetensorsDType> = {
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
  i32: 'I32',
  u32: 'U32',
  bool: 'BOOL',
};

/** A tensor's values as safetensors bytes (one read from the device). */
export async function tensorToRaw(t: Tensor): Promise<RawTensor> {
  assertLittleEndian();
  const values = await t.toArray();
  let data: Uint8Array;
  switch (t.dtype) {
    case 'f32':
      data = new Uint8Array(Float32Array.from(values).buffer);
      break;
    case 'f16':
    case 'bf16': {
      const enc = t.dtype === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
      data = new Uint8Array(Uint16Array.from(values, enc).buffer);
      break;
    }
    case 'i32':
      data = new Uint8Array(Int32Array.from(values).buffer);
      break;
    case 'u32':
      data = new Uint8Array(Uint32Array.from(values).buffer);
      break;
    case 'bool':
      data = Uint8Array.from(values, (v) => (v ? 1 : 0));
      break;
  }
  return { dtype: TO_FILE[t.dtype], shape: [...t.shape], data };
}

/** Decodes raw little-endian bytes into numbers and the Fathom dtype that holds them. */
export function rawToValues(raw: RawTensor): { dtype: DType; values: ArrayLike<number> } {
  assertLittleEndian();
  const buf = raw.data.slice().buffer; // aligned copy
  switch (raw.dtype) {
    case 'F32':
      return { dtype: 'f32', values: new Float32Array(buf) };
    case 'F64':
      return { dtype: 'f32', values: new Float64Array(buf) };
    case 'F16':
      return { dtype: 'f16', values: Float32Array.from(new Uint16Array(buf), f16BitsToF32) };
    case 'BF16':
      return { dtype: 'bf16', values: Float32Array.from(new Uint16Array(buf), bf16BitsToF32) };
    case 'I32':
      return { dtype: 'i32', values: new Int32Array(buf) };
    case 'U32':
      return { dtype: 'u32', values: new Uint32Array(buf) };
    case 'BOOL':
      return { dtype: 'bool', values: new Uint8Array(buf) };
    case 'U8':
      return { dtype: 'i32', values: new Uint8Array(buf) };
    case 'I8':
      return { dtype: 'i32', values: new Int8Array(buf) };
    case 'I16':
      return { dtype: 'i32', values: new Int16Array(buf) };
    case 'U16':
      return { dtype: 'i32', values: new Uint16Array(buf) };
    case 'I64':
    case 'U64': {
      const big = raw.dtype === 'I64' ? new BigInt64Array(buf) : new BigUint64Array(buf);
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        const v = big[i]!;
        if (v > 2147483647n || v < -2147483648n) {
          throw new SafetensorsError(`${raw.dtype} value ${v} does not fit Fathom's i32`);
        }
        out[i] = Number(v);
      }
      return { dtype: 'i32', values: out };
    }
  }
}

/** Saves named tensors to a safetensors file atomically (temp file, fsync, rename). */
export async function saveSafetensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of entries) raw.set(name, await tensorToRaw(t));
  await writeFileAtomic(path, serializeSafetensors(raw, metadata));
}

/** Loads every tensor of a safetensors file onto `device`. */
export async function loadSafetensors(
  path: string,
  device: Device,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(path);
  let contents;
  try {
    contents = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    if (error instanceof SafetensorsError)
      throw new SafetensorsError(`${path}: ${error.message.replace(/^safetensors: /, '')}`);
    throw error;
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of contents.tensors) {
    const { dtype, values } = rawToValues(raw);
    tensors.set(name, fromArray(values, raw.shape, { device, dtype }));
  }
  return { tensors, metadata: contents.metadata };
}
