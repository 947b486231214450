/**
 * The wasm backend's allocator over one shared `WebAssembly.Memory`: blocks in
 * size classes (four per power of two, 64-byte aligned) with a free list per
 * class; released blocks are reused, never returned to the memory (wasm memory
 * cannot shrink). The memory grows when the bump pointer reaches its end.
 */
import type { WasmMemory } from './webassembly.js';

/** Bytes below this address are reserved for the thread pool's control block. */
export const RESERVED_BYTES = 65536;
const PAGE = 65536;
const ALIGN = 64;
/** Grow by at least this many pages at a time, so that growth is rare. */
const MIN_GROW_PAGES = 256;

/** The block size serving a request of `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const p = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = Math.max(ALIGN, p / 4);
  return Math.ceil(bytes / step) * step;
}

/** See the module comment. */
export class WasmAllocator {
  private top = RESERVED_BYTES;
  private readonly free = new Map<number, number[]>();
  private freeBytes = 0;
  /** Bumped whenever the memory grows, so that cached typed-array views know to refresh. */
  generation = 0;

  constructor(
    readonly memory: WasmMemory,
    /** The memory's maximum in pages. */
    readonly maximumPages: number,
  ) {}

  /** A block of at least `bytes` bytes; returns its address and its class size. */
  allocate(bytes: number): { ptr: number; size: number } {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.freeBytes -= size;
      return { ptr: reused, size };
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return { ptr, size };
  }

  /** Returns a block from {@link allocate} to its class's free list. */
  release(ptr: number, size: number): void {
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.freeBytes += size;
  }

  /** Bytes in free lists. */
  pooledBytes(): number {
    return this.freeBytes;
  }

  /** Bytes handed out from the memory so far (live or pooled), past the reserved region. */
  usedBytes(): number {
    return this.top - RESERVED_BYTES;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = have / PAGE;
    const need = Math.ceil((end - have) / PAGE);
    if (pages + need > this.maximumPages) {
      throw new RangeError(
        `wasm backend: out of memory: an allocation needs ${end - have} more bytes but the ` +
          `memory is at ${have} of its ${this.maximumPages * PAGE} bytes`,
      );
    }
    const grow = Math.min(this.maximumPages - pages, Math.max(need, MIN_GROW_PAGES, pages >> 2));
    this.memory.grow(grow);
    this.generation++;
  }
}
