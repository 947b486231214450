/**
 * The interface every backend implements. It is deliberately small: storage,
 * transfers and flushing. Computation lives in kernels registered per op and
 * backend (see registry.ts), so other packages can add kernels.
 */
import type { DType } from './dtype.js';

/** Backends Fathom ships. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** Values as the host sees them: floats decode to Float32Array (Float64Array on a float64 reference device). */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A backend's handle to one allocation. Opaque outside the backend. */
export interface StorageHandle {
  readonly byteLength: number;
}

/** What a kernel sees of a tensor: storage plus a strided layout (offset and strides in elements). */
export interface TensorView {
  readonly handle: StorageHandle;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Storage, transfer and execution services of one backend instance. */
export interface Backend {
  readonly name: BackendName;
  /** One line naming the hardware or implementation, for logs. */
  readonly description: string;
  /** Whether kernels may write f16/bf16 outputs directly; if not, ops compute in f32 and cast. */
  readonly writesHalf: boolean;
  /** Allocates storage for `elements` values of `dtype` (contents undefined). */
  allocate(dtype: DType, elements: number): StorageHandle;
  /** Returns storage to the backend (a pool, or the allocator). */
  release(handle: StorageHandle): void;
  /** Copies host values into the first `values.length` elements of a storage. */
  write(handle: StorageHandle, dtype: DType, values: ArrayLike<number>): void;
  /** Reads `count` elements starting at element `offset`. Submits pending work first. */
  read(handle: StorageHandle, dtype: DType, offset: number, count: number): Promise<HostArray>;
  /** Submits pending work now (a no-op for synchronous backends). */
  flush(): void;
  /** Bytes held in reuse pools, not owned by any tensor. */
  poolBytes(): number;
  /** Releases every resource; the backend is unusable afterwards. */
  destroy(): void;
}
