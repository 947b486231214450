/**
 * The reference backend: plain TypeScript over typed arrays. It is the oracle
 * for the other backends, so clear beats fast. With `float64`, float tensors
 * are held and computed in float64 (16-bit floats are still rounded by casts).
 */
import type { Backend, HostArray, StorageHandle } from '../../backend.js';
import { type DType, isFloat } from '../../dtype.js';
import { roundToBf16, roundToF16 } from '../../half.js';

/** Values of one allocation. Floats live in Float32Array (Float64Array in float64 mode). */
export class CpuStorage implements StorageHandle {
  constructor(
    readonly data: Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array,
    readonly byteLength: number,
  ) {}
}

/** Options of {@link CpuBackend}. */
export interface CpuBackendOptions {
  float64: boolean;
}

/** See the module comment. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly writesHalf = false;
  readonly description: string;
  readonly float64: boolean;

  constructor(options: CpuBackendOptions) {
    this.float64 = options.float64;
    this.description = `reference backend (TypeScript, ${options.float64 ? 'float64' : 'float32'})`;
  }

  /** A typed array for `n` values of `dtype`. */
  newArray(dtype: DType, n: number): CpuStorage['data'] {
    if (isFloat(dtype)) return this.float64 ? new Float64Array(n) : new Float32Array(n);
    if (dtype === 'i32') return new Int32Array(n);
    if (dtype === 'u32') return new Uint32Array(n);
    return new Uint8Array(n);
  }

  allocate(dtype: DType, elements: number): CpuStorage {
    return new CpuStorage(
      this.newArray(dtype, elements),
      elements * (dtype === 'f16' || dtype === 'bf16' ? 2 : 4),
    );
  }

  release(): void {
    // Garbage collection reclaims host memory; accounting happens in Storage.
  }

  write(handle: StorageHandle, dtype: DType, values: ArrayLike<number>): void {
    const data = (handle as CpuStorage).data;
    const store = storeAs(dtype, this.float64);
    for (let i = 0; i < values.length; i++) data[i] = store(values[i]!);
  }

  async read(
    handle: StorageHandle,
    _dtype: DType,
    offset: number,
    count: number,
  ): Promise<HostArray> {
    return (handle as CpuStorage).data.slice(offset, offset + count);
  }

  flush(): void {}

  poolBytes(): number {
    return 0;
  }

  destroy(): void {}
}

/** The typed array behind a kernel's view. */
export function dataOf(handle: StorageHandle): CpuStorage['data'] {
  return (handle as CpuStorage).data;
}

/** Converts a computed value to what storage of `dtype` holds. */
export function storeAs(dtype: DType, float64: boolean): (v: number) => number {
  switch (dtype) {
    case 'f32':
      return float64 ? (v) => v : Math.fround;
    case 'f16':
      return roundToF16;
    case 'bf16':
      return roundToBf16;
    case 'bool':
      return (v) => (v !== 0 && !Number.isNaN(v) ? 1 : 0);
    case 'i32':
      // Float → int truncates toward zero and saturates, as WGSL's i32() does.
      return (v) =>
        Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
    case 'u32':
      return (v) => (Number.isNaN(v) ? 0 : Math.max(0, Math.min(4294967295, Math.trunc(v))));
  }
}
