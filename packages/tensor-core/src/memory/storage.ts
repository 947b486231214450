/**
 * Reference-counted device storage. Views and autograd's saved tensors share one
 * storage; it goes back to the backend when the last reference is released.
 */
import type { Backend, StorageHandle } from '../backend.js';
import type { DType } from '../dtype.js';
import { byteSize } from '../dtype.js';

/** Live-object counters a device reports through `memory()`. */
export interface MemoryCounters {
  liveTensors: number;
  liveStorages: number;
  liveBytes: number;
  /** Allocations ever made through the backend (a steady-state step adds none when pooled). */
  allocations: number;
  /** The most live bytes seen since the device opened or `resetPeak()`. */
  peakBytes: number;
}

/** One allocation shared by every tensor that views it. */
export class Storage {
  private refs = 1;
  readonly byteLength: number;

  constructor(
    readonly backend: Backend,
    readonly handle: StorageHandle,
    readonly dtype: DType,
    readonly elements: number,
    private readonly counters: MemoryCounters,
  ) {
    this.byteLength = elements * byteSize(dtype);
    counters.liveStorages++;
    counters.liveBytes += this.byteLength;
    if (counters.liveBytes > counters.peakBytes) counters.peakBytes = counters.liveBytes;
  }

  /** Allocates fresh storage on a backend. */
  static allocate(
    backend: Backend,
    dtype: DType,
    elements: number,
    counters: MemoryCounters,
  ): Storage {
    counters.allocations++;
    return new Storage(backend, backend.allocate(dtype, elements), dtype, elements, counters);
  }

  get released(): boolean {
    return this.refs === 0;
  }

  retain(): void {
    if (this.refs === 0) throw new Error('internal: retain of released storage');
    this.refs++;
  }

  release(): void {
    if (this.refs === 0) return;
    if (--this.refs === 0) {
      this.counters.liveStorages--;
      this.counters.liveBytes -= this.byteLength;
      this.backend.release(this.handle);
    }
  }
}
