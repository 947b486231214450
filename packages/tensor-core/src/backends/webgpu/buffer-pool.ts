/**
 * Reuse of GPU buffers by size class. Allocating and destroying buffers per op
 * is slow in Dawn and grew the process by gigabytes in a loop (ENVIRONMENT.md),
 * so released buffers wait here for the next request of their class.
 */

// Four classes per power of two: at most 19 % of a buffer is slack.
const STEPS_PER_OCTAVE = 4;
const MIN_BYTES = 256;

/** The byte size a request of `bytes` is served with. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_BYTES) return MIN_BYTES;
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const step = octave / STEPS_PER_OCTAVE;
  return Math.ceil(bytes / step) * step;
}

/** Free buffers by exact size class. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooled = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  /** Bytes parked in the pool. */
  get bytes(): number {
    return this.pooled;
  }

  /** A buffer of at least `bytes`; `created` is true when it was newly allocated. */
  acquire(bytes: number): { buffer: GPUBuffer; created: boolean } {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooled -= size;
      return { buffer: reused, created: false };
    }
    return { buffer: this.device.createBuffer({ size, usage: this.usage }), created: true };
  }

  release(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
    this.pooled += buffer.size;
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooled = 0;
  }
}
