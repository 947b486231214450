/**
 * Acquiring a WebGPU adapter and device: `navigator.gpu` in a browser, Dawn's
 * Node binding (npm `webgpu`) in Node.
 */

/** What Fathom learned about an adapter when it acquired it. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations of WebGPU (Mesa lavapipe, SwiftShader, WARP). */
  isSoftware: boolean;
  /** Whether the adapter offers `shader-f16`, and the device was given it. */
  shaderF16: boolean;
  /**
   * Whether the device was given the `subgroups` feature and every subgroup has at least
   * 8 lanes (what the subgroup matmul tiles assume); 0-lane adapters report false.
   */
  subgroups: boolean;
}

/** A live WebGPU device together with what keeps it alive. */
export interface GpuContext {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  summary: AdapterSummary;
}

/** Options for {@link acquireGpu}. */
export interface AcquireGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn toggles for Node, e.g. `['backend=vulkan']`. Ignored in browsers. */
  dawnOptions?: string[];
}

// Dawn's `create()` result must outlive every adapter and device made from it:
// when it was garbage-collected under a live device the process crashed. Hold it
// here until the device is released.
const liveDawnInstances = new Set<GPU>();

const SOFTWARE_ADAPTER = /lavapipe|llvmpipe|swiftshader|microsoft basic render|warp/i;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function dawnGpu(options: string[]): Promise<GPU> {
  // Mesa prints an error line on every start when this is unset.
  if (!process.env.XDG_RUNTIME_DIR) {
    const { tmpdir } = await import('node:os');
    process.env.XDG_RUNTIME_DIR = tmpdir();
  }
  const { create, globals } = await import('webgpu');
  // Dawn's GPU* classes (GPUBufferUsage, GPUShaderStage…) become globals so that
  // code written for browsers runs unchanged.
  Object.assign(globalThis, globals);
  return create(options);
}

/**
 * Finds a WebGPU adapter and opens a device with the adapter's maximum limits.
 * Returns `undefined` with a reason when no adapter exists, so callers can fall back.
 */
export async function acquireGpu(
  options: AcquireGpuOptions = {},
): Promise<{ ok: true; context: GpuContext } | { ok: false; reason: string }> {
  let gpu: GPU | undefined;
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) {
    gpu = browserGpu;
  } else if (isNode()) {
    try {
      gpu = await dawnGpu(options.dawnOptions ?? []);
    } catch (error) {
      return {
        ok: false,
        reason: `Dawn's Node binding (npm 'webgpu') failed to load: ${String(error)}`,
      };
    }
  } else {
    return { ok: false, reason: 'this runtime has no navigator.gpu' };
  }

  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) {
    return {
      ok: false,
      reason:
        'no WebGPU adapter: no Vulkan driver with the features Dawn needs was found ' +
        '(run `bash scripts/setup-webgpu.sh`, or install Mesa >= 23 lavapipe or a GPU driver)',
    };
  }

  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  const shaderF16 = adapter.features.has('shader-f16');
  const subgroupMin = (adapter.info as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
  const subgroups = adapter.features.has('subgroups' as GPUFeatureName) && subgroupMin >= 8;
  const requiredFeatures: GPUFeatureName[] = [
    ...(shaderF16 ? (['shader-f16'] as GPUFeatureName[]) : []),
    ...(subgroups ? (['subgroups'] as GPUFeatureName[]) : []),
  ];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });

  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.device, info.description]
    .filter((s) => s && s.length > 0)
    .join(' ');
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: description || 'unknown adapter',
    isSoftware:
      SOFTWARE_ADAPTER.test(description) ||
      (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
    shaderF16,
    subgroups,
  };
  liveDawnInstances.add(gpu);
  return { ok: true, context: { gpu, adapter, device, summary } };
}

/** Destroys the device and lets go of the Dawn instance so the process can exit. */
export function releaseGpu(context: GpuContext): void {
  context.device.destroy();
  liveDawnInstances.delete(context.gpu);
}
