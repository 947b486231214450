/**
 * The WebAssembly backend: storage in one shared `WebAssembly.Memory`, kernels in
 * a SIMD module (`assembly/`) run on the calling thread and on worker threads
 * that share the memory. Storage handles expose the same `.data` typed-array
 * accessor as the reference backend's `CpuStorage`, so every reference kernel
 * also runs on wasm storage (the fallback for ops without a native kernel).
 */
import { availableParallelism } from 'node:os';
import type { Backend, HostArray, StorageHandle } from '../../backend.js';
import { type DType, isFloat } from '../../dtype.js';
import { storeAs } from '../cpu/cpu-backend.js';
import { WasmAllocator } from './allocator.js';
import { webAssembly } from './webassembly.js';
import { ThreadPool } from './thread-pool.js';
import { type KernelName, type WasmKernelExports, loadWasmModule } from './wasm-module.js';

/** The typed array a storage is read through, as on the reference backend (half floats held as f32 values). */
export type WasmData = Float32Array | Int32Array | Uint32Array | Uint8Array;

export type DataKind = 'f32' | 'i32' | 'u32' | 'u8';

function kindOf(dtype: DType): DataKind {
  if (isFloat(dtype)) return 'f32';
  if (dtype === 'i32' || dtype === 'u32') return dtype;
  return 'u8';
}

/** Options of {@link WasmBackend.create}. */
export interface WasmBackendOptions {
  /** Threads kernels split across, the calling one included (default `os.availableParallelism()`). */
  threads?: number;
  /** Largest memory in 64 KiB pages (default 65536, i.e. 4 GiB). */
  maximumPages?: number;
}

/** Address of the thread pool's control block, inside the allocator's reserved bytes. */
const CONTROL_AT = 1024;

/** One allocation in the shared memory. */
export class WasmStorage implements StorageHandle {
  private view: WasmData | null = null;
  private viewGeneration = -1;

  constructor(
    private readonly backend: WasmBackend,
    /** Byte address in the shared memory. */
    readonly ptr: number,
    /** Bytes of the block serving it (its size class). */
    readonly blockBytes: number,
    readonly elements: number,
    readonly kind: DataKind,
    readonly byteLength: number,
  ) {}

  /**
   * The values as a typed array over the shared memory. Re-created after the memory
   * grows, so take it afresh after any allocation rather than keeping it.
   */
  get data(): WasmData {
    const alloc = this.backend.allocator;
    if (this.view === null || this.viewGeneration !== alloc.generation) {
      const buffer = alloc.memory.buffer;
      const p = this.ptr;
      const n = this.elements;
      this.view =
        this.kind === 'f32'
          ? new Float32Array(buffer, p, n)
          : this.kind === 'i32'
            ? new Int32Array(buffer, p, n)
            : this.kind === 'u32'
              ? new Uint32Array(buffer, p, n)
              : new Uint8Array(buffer, p, n);
      this.viewGeneration = alloc.generation;
    }
    return this.view;
  }
}

/** Per-op counts of calls served by a native kernel or by the reference fallback. */
export interface KernelCounts {
  native: number;
  fallback: number;
}

/** See the module comment. */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly writesHalf = false;
  /** Reference kernels read this to round floats: wasm storage holds float32. */
  readonly float64 = false;
  readonly description: string;
  /** Calls per op, native or fallback (for tests and profiling). */
  readonly counts = new Map<string, KernelCounts>();
  private matmulWork = 0;
  private scratchPtr = 0;
  private scratchSize = 0;

  private constructor(
    readonly allocator: WasmAllocator,
    private readonly pool: ThreadPool,
    private readonly exports: WasmKernelExports,
  ) {
    this.description = `WebAssembly SIMD (${pool.threads} thread${pool.threads === 1 ? '' : 's'})`;
  }

  /** Compiles (once) and instantiates the module, and starts the worker threads. */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError(
        `Device.open: threads is ${String(threads)}; expected an integer from 1 to 256`,
      );
    }
    const maximumPages = options.maximumPages ?? 65536;
    const module = await loadWasmModule();
    const memory = new webAssembly.Memory({ initial: 17, maximum: maximumPages, shared: true });
    const instance = await webAssembly.instantiate(module, { env: { memory } });
    const allocator = new WasmAllocator(memory, maximumPages);
    // The control block sits in the reserved first page, at a fixed place.
    const pool = await ThreadPool.start(module, memory, instance, CONTROL_AT, threads);
    return new WasmBackend(allocator, pool, instance.exports as unknown as WasmKernelExports);
  }

  /** Threads a parallel kernel splits across. */
  get threads(): number {
    return this.pool.threads;
  }

  allocate(dtype: DType, elements: number): WasmStorage {
    const kind = kindOf(dtype);
    const width = kind === 'u8' ? 1 : 4;
    const logical = elements * (dtype === 'f16' || dtype === 'bf16' ? 2 : 4);
    if (elements === 0) return new WasmStorage(this, 0, 0, 0, kind, 0);
    const { ptr, size } = this.allocator.allocate(elements * width);
    return new WasmStorage(this, ptr, size, elements, kind, logical);
  }

  release(handle: StorageHandle): void {
    const s = handle as WasmStorage;
    if (s.blockBytes > 0) this.allocator.release(s.ptr, s.blockBytes);
  }

  write(handle: StorageHandle, dtype: DType, values: ArrayLike<number>): void {
    const data = (handle as WasmStorage).data;
    if (dtype === 'f32' && values instanceof Float32Array) {
      data.set(values);
      return;
    }
    const store = storeAs(dtype, false);
    for (let i = 0; i < values.length; i++) data[i] = store(values[i]!);
  }

  async read(
    handle: StorageHandle,
    _dtype: DType,
    offset: number,
    count: number,
  ): Promise<HostArray> {
    // slice() copies into a fresh, unshared buffer: later kernels cannot change it.
    return (handle as WasmStorage).data.slice(offset, offset + count);
  }

  flush(): void {}

  poolBytes(): number {
    return this.allocator.pooledBytes();
  }

  destroy(): void {
    this.pool.destroy();
  }

  /** Runs a module kernel; `parallel` splits it across every thread. */
  run(name: KernelName, args: readonly number[], parallel: boolean): void {
    this.pool.run(name, args, parallel);
  }

  /** Counts one call of `op` (native or fallback). */
  count(op: string, native: boolean): void {
    let c = this.counts.get(op);
    if (!c) this.counts.set(op, (c = { native: 0, fallback: 0 }));
    if (native) c.native++;
    else c.fallback++;
  }

  /** The matmul kernel's per-thread packing workspace (allocated on first use, kept). */
  matmulWorkspace(): number {
    if (this.matmulWork === 0) {
      const bytes = (this.exports.WORK_BYTES.value as number) * this.pool.threads;
      this.matmulWork = this.allocator.allocate(bytes).ptr;
    }
    return this.matmulWork;
  }

  /**
   * Backend-owned scratch of at least `bytes` bytes, valid until the next call
   * (kernels run one at a time).
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchSize) {
      if (this.scratchSize > 0) this.allocator.release(this.scratchPtr, this.scratchSize);
      const { ptr, size } = this.allocator.allocate(bytes);
      this.scratchPtr = ptr;
      this.scratchSize = size;
    }
    return this.scratchPtr;
  }

  /** A typed array over the whole memory (re-take after any allocation). */
  heapF32(): Float32Array {
    return new Float32Array(this.allocator.memory.buffer);
  }

  /** An Int32 view over the whole memory (re-take after any allocation). */
  heapI32(): Int32Array {
    return new Int32Array(this.allocator.memory.buffer);
  }
}
