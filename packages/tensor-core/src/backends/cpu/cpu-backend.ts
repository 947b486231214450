/**
 * The reference backend: plain TypeScript over typed arrays. It is the oracle
 * for the other backends, so clear beats fast. With `float64`, float tensors
 * are held and computed in float64 (16-bit floats are still rounded by casts).
 */
import type { Backend, HostArray, StorageHandle } from '../../backend.js';
import { type DType, isFloat } from '../../dtype.js';

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

  write(handle: StorageHandle, _dtype: DType, values: ArrayLike<number>): void {
    (handle as CpuStorage).data.set(values);
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
