/**
 * `Device.open()` picks and starts a backend; tensors belong to one device.
 */
// Opening a device must find every kernel registered: these modules register on import.
import './backends/cpu/kernels.js';
import './backends/webgpu/kernels.js';
import './backends/wasm/kernels.js';
import type { Backend, BackendName } from './backend.js';
import { CpuBackend } from './backends/cpu/cpu-backend.js';
import { acquireGpu, releaseGpu } from './backends/webgpu/adapter.js';
import { WebGpuBackend } from './backends/webgpu/webgpu-backend.js';
import { registerWasmFallbacks } from './backends/wasm/fallback.js';
import { WasmBackend } from './backends/wasm/wasm-backend.js';
import type { MemoryCounters } from './memory/storage.js';

/** Options for {@link Device.open}. */
export interface DeviceOptions {
  /**
   * `webgpu`, `wasm` (WebAssembly SIMD on worker threads), `cpu` (the reference backend)
   * or `auto` (default): WebGPU on a hardware adapter, otherwise `wasm` (the only adapter
   * is a software one such as lavapipe or SwiftShader, or there is none). The environment
   * variable `FATHOM_BACKEND` overrides `auto`.
   */
  backend?: BackendName | 'auto';
  /** wasm only: threads kernels split across, the calling one included (default `os.availableParallelism()`). */
  threads?: number;
  /** Reference backend only: hold and compute floats in float64 (the oracle for tests). */
  float64?: boolean;
  /** Print the one-line notice saying which backend `auto` chose and why (default true). */
  announce?: boolean;
  /** WebGPU only: adapter power preference. */
  powerPreference?: GPUPowerPreference;
}

/** What `device.memory()` reports. */
export interface MemoryInfo {
  /** Tensor handles not yet disposed (views and autograd's saved tensors included). */
  liveTensors: number;
  /** Distinct storages alive. */
  liveStorages: number;
  /** Bytes of live storage. */
  liveBytes: number;
  /** Bytes parked in the backend's reuse pool. */
  poolBytes: number;
  /** Storage allocations requested so far (served from the pool when one fits). */
  allocations: number;
  /** The most live bytes seen since the device opened or the last `resetPeak()`. */
  peakBytes: number;
}

let nextDeviceId = 0;
const openDevices: Device[] = [];

/** A backend instance plus the bookkeeping tensors share. */
export class Device {
  /** @internal Counters updated by tensors and storages. */
  readonly counters: MemoryCounters = {
    liveTensors: 0,
    liveStorages: 0,
    liveBytes: 0,
    allocations: 0,
    peakBytes: 0,
  };
  /** Unique name used in messages, e.g. `webgpu:0`. */
  readonly name: string;
  private closed = false;

  private constructor(
    readonly backend: Backend,
    /** Why this backend was chosen (for `auto`) or that it was requested. */
    readonly reason: string,
  ) {
    this.name = `${backend.name}:${nextDeviceId++}`;
    openDevices.push(this);
  }

  /** The backend's kind. */
  get kind(): BackendName {
    return this.backend.name;
  }

  /** Opens a device. See {@link DeviceOptions}. */
  static async open(options: DeviceOptions = {}): Promise<Device> {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
      ?.env;
    const requested = options.backend ?? 'auto';
    const choice = requested === 'auto' && env?.FATHOM_BACKEND ? env.FATHOM_BACKEND : requested;
    if (!['auto', 'webgpu', 'cpu', 'wasm'].includes(choice)) {
      throw new RangeError(
        `Device.open: backend '${choice}' is unknown; expected 'webgpu', 'wasm', 'cpu' or 'auto'`,
      );
    }
    const openWasm = async (reason: string): Promise<Device> => {
      // Kernels registered by other packages since tensor-core loaded get fallbacks too.
      registerWasmFallbacks();
      const backend = await WasmBackend.create(
        options.threads !== undefined ? { threads: options.threads } : {},
      );
      return new Device(backend, reason);
    };
    if (choice === 'wasm') return openWasm('requested');
    if (choice === 'cpu') {
      return new Device(new CpuBackend({ float64: options.float64 ?? false }), 'requested');
    }
    const got = await acquireGpu(
      options.powerPreference ? { powerPreference: options.powerPreference } : {},
    );
    const software = got.ok && got.context.summary.isSoftware;
    if (got.ok && (choice === 'webgpu' || !software)) {
      const device = new Device(
        new WebGpuBackend(got.context),
        choice === 'auto' ? 'auto: a WebGPU adapter is available' : 'requested',
      );
      if (choice === 'auto' && options.announce !== false) {
        console.error(`[fathom] backend webgpu: ${got.context.summary.description}`);
      }
      return device;
    }
    if (!got.ok && choice === 'webgpu')
      throw new Error(`Device.open: backend 'webgpu' requested but ${got.reason}`);
    // auto without a hardware adapter: WebAssembly SIMD beats a software rasterizer.
    let why: string;
    if (got.ok) {
      why = `the only WebGPU adapter is a software one (${got.context.summary.description})`;
      releaseGpu(got.context);
    } else {
      why = got.reason;
    }
    const device = await openWasm(`auto: ${why}`);
    if (options.announce !== false)
      console.error(`[fathom] backend wasm (${device.backend.description}): ${why}`);
    return device;
  }

  /** The device tensors are created on when no device is given: the first one opened and still open. */
  static default(): Device {
    const d = openDevices[0];
    if (!d)
      throw new Error('no device is open: call `await Device.open()` first, or pass { device }');
    return d;
  }

  /** True after `close()`. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Live tensors and bytes, pool bytes and allocation count. */
  memory(): MemoryInfo {
    return { ...this.counters, poolBytes: this.backend.poolBytes() };
  }

  /** Starts peak tracking afresh from the current live bytes. */
  resetPeak(): void {
    this.counters.peakBytes = this.counters.liveBytes;
  }

  /** Submits pending GPU work now. Reads do this themselves. */
  flush(): void {
    this.backend.flush();
  }

  /** Releases the backend (for WebGPU: the Dawn device) so the process can exit. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const i = openDevices.indexOf(this);
    if (i >= 0) openDevices.splice(i, 1);
    this.backend.destroy();
  }

  toString(): string {
    return `Device(${this.name}: ${this.backend.description})`;
  }
}
