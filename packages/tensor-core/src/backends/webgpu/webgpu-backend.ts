/**
 * The WebGPU backend: pooled storage buffers, one open command encoder and
 * compute pass that dispatches accumulate into (submitted on read, on upload
 * into busy memory, or past a threshold), a uniform arena for per-dispatch
 * parameters, and a pipeline cache keyed by shader source.
 */
import type { Backend, HostArray, StorageHandle } from '../../backend.js';
import { type DType, byteSize } from '../../dtype.js';
import { releaseGpu, type GpuContext } from './adapter.js';
import { BufferPool } from './buffer-pool.js';
import { decodeHost, encodeHost } from './half-codec.js';

/** A pooled GPU buffer holding one tensor storage. */
export class GpuStorage implements StorageHandle {
  constructor(
    readonly buffer: GPUBuffer,
    readonly byteLength: number,
  ) {}
}

/** One dispatch: a pipeline, its storage bindings in binding order, parameters and a grid. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  /** Bound at bindings 0..n-1 of group 0. */
  buffers: GPUBuffer[];
  /** Uniform parameters, bound at binding n (after the buffers); omitted when the shader has none. */
  params?: ArrayBuffer;
  /** Workgroup counts. */
  grid: [number, number?, number?];
}

const PARAM_ARENA_BYTES = 1 << 18;
const MAX_DISPATCHES_PER_SUBMIT = 512;

/** See the module comment. */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly writesHalf = false;
  readonly description: string;
  readonly device: GPUDevice;
  private readonly storagePool: BufferPool;
  private readonly readPool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private readonly paramArena: GPUBuffer;
  private readonly paramStaging = new Uint8Array(PARAM_ARENA_BYTES);
  private paramUsed = 0;
  private readonly paramAlign: number;
  private firstError: string | null = null;
  /** Submits so far (a training step should take a few). */
  submits = 0;
  /** GPU buffers created so far (storage and readback); a steady-state training step adds none. */
  buffersCreated = 0;

  constructor(readonly context: GpuContext) {
    this.device = context.device;
    this.description = `WebGPU on ${context.summary.description}`;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.storagePool = new BufferPool(this.device, usage);
    this.readPool = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.paramArena = this.device.createBuffer({
      size: PARAM_ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.paramAlign = this.device.limits.minUniformBufferOffsetAlignment;
    this.device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      this.firstError ??= event.error.message;
    };
  }

  /** Device limits (the adapter's maximum, requested at creation). */
  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  allocate(dtype: DType, elements: number): GpuStorage {
    const bytes = Math.max(4, Math.ceil((elements * byteSize(dtype)) / 4) * 4);
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) {
      throw new RangeError(
        `allocate: ${elements} ${dtype} values need ${bytes} bytes; this adapter's largest buffer is ${max} bytes`,
      );
    }
    const { buffer, created } = this.storagePool.acquire(bytes);
    if (created) this.buffersCreated++;
    return new GpuStorage(buffer, bytes);
  }

  release(handle: StorageHandle): void {
    // Safe while commands that use it are still pending: later commands that reuse
    // the buffer run after them in queue order. Uploads flush first (see write()).
    this.storagePool.release((handle as GpuStorage).buffer);
  }

  write(handle: StorageHandle, dtype: DType, values: ArrayLike<number>): void {
    // queue.writeBuffer lands before the pending encoder's commands would run, so
    // a reused buffer those commands still read must see them submitted first.
    if (this.dispatches > 0) this.flush();
    const bytes = encodeHost(dtype, values);
    if (bytes.byteLength > 0)
      this.device.queue.writeBuffer((handle as GpuStorage).buffer, 0, bytes);
  }

  async read(
    handle: StorageHandle,
    dtype: DType,
    offset: number,
    count: number,
  ): Promise<HostArray> {
    const size = byteSize(dtype);
    const start = Math.floor((offset * size) / 4) * 4;
    const end = Math.ceil(((offset + count) * size) / 4) * 4;
    const length = Math.max(4, end - start);
    const { buffer: staging, created } = this.readPool.acquire(length);
    if (created) this.buffersCreated++;
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer((handle as GpuStorage).buffer, start, staging, 0, length);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, length);
    } catch (error) {
      this.readPool.release(staging);
      throw this.errorOr(error);
    }
    const bytes = staging.getMappedRange(0, length).slice(0);
    staging.unmap();
    this.readPool.release(staging);
    this.throwIfFailed();
    return decodeHost(dtype, bytes, (offset * size - start) / size, count);
  }

  flush(): void {
    if (this.encoder) this.submit();
  }

  poolBytes(): number {
    return this.storagePool.bytes + this.readPool.bytes;
  }

  destroy(): void {
    this.flush();
    this.storagePool.clear();
    this.readPool.clear();
    this.paramArena.destroy();
    releaseGpu(this.context);
  }

  /** The compute pipeline for a WGSL source with entry point `main`, compiled once. */
  pipeline(code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /** Number of compiled pipelines (for tests of caching). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Encodes one dispatch into the open compute pass. */
  dispatch(d: Dispatch): void {
    const [x, y = 1, z = 1] = d.grid;
    if (x === 0 || y === 0 || z === 0) return;
    const entries: GPUBindGroupEntry[] = d.buffers.map((buffer, binding) => ({
      binding,
      resource: { buffer },
    }));
    if (d.params) {
      const size = Math.ceil(d.params.byteLength / 16) * 16;
      if (this.paramUsed + size > PARAM_ARENA_BYTES) this.submit();
      this.paramStaging.set(new Uint8Array(d.params), this.paramUsed);
      entries.push({
        binding: d.buffers.length,
        resource: { buffer: this.paramArena, offset: this.paramUsed, size },
      });
      this.paramUsed = Math.ceil((this.paramUsed + size) / this.paramAlign) * this.paramAlign;
    }
    const bindGroup = this.device.createBindGroup({
      layout: d.pipeline.getBindGroupLayout(0),
      entries,
    });
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(d.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    if (++this.dispatches >= MAX_DISPATCHES_PER_SUBMIT) this.submit();
  }

  /** Encodes a buffer-to-buffer copy (ends the open pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.dispatches++;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private submit(): void {
    this.endPass();
    if (this.paramUsed > 0) {
      this.device.queue.writeBuffer(this.paramArena, 0, this.paramStaging, 0, this.paramUsed);
      this.paramUsed = 0;
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submits++;
    }
    this.dispatches = 0;
  }

  private errorOr(error: unknown): Error {
    if (this.firstError) return new Error(`WebGPU error: ${this.firstError}`);
    return error instanceof Error ? error : new Error(String(error));
  }

  private throwIfFailed(): void {
    if (this.firstError) {
      const message = this.firstError;
      this.firstError = null;
      throw new Error(`WebGPU error: ${message}`);
    }
  }
}
