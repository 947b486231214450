/**
 * Testing helpers for tensor-core and the packages built on it (published as
 * `@fathom/tensor-core/testing`): devices to compare, seeded data, closeness
 * checks and finite-difference gradient checks. Framework-free: failures throw.
 */
import { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { fromArray } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** A small seeded generator (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi) from `rand`. */
export function uniformValues(rand: () => number, n: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/**
 * The devices a test compares: WebGPU, WebAssembly, the reference backend in float64
 * (the oracle), and in float32.
 */
export interface TestDevices {
  gpu: Device;
  /** The WebAssembly SIMD backend (with worker threads). */
  wasm: Device;
  ref: Device;
  cpu: Device;
  close(): void;
}

/** Opens the devices of {@link TestDevices}. WebGPU must exist: CI installs lavapipe, so its absence fails. */
export async function openTestDevices(): Promise<TestDevices> {
  const gpu = await Device.open({ backend: 'webgpu' });
  const wasm = await Device.open({ backend: 'wasm' });
  const ref = await Device.open({ backend: 'cpu', float64: true });
  const cpu = await Device.open({ backend: 'cpu' });
  return {
    gpu,
    wasm,
    ref,
    cpu,
    close() {
      gpu.close();
      wasm.close();
      ref.close();
      cpu.close();
    },
  };
}

/** The same values as a tensor on each device. */
export function onEach(
  devices: Device[],
  values: ArrayLike<number>,
  shape: number[],
  dtype: DType = 'f32',
  requiresGrad = false,
): Tensor[] {
  return devices.map((device) => fromArray(values, shape, { device, dtype, requiresGrad }));
}

/** Tolerances per dtype for comparing a backend with the float64 oracle. */
export const TOLERANCE: Record<DType, { atol: number; rtol: number }> = {
  f32: { atol: 1e-5, rtol: 1e-4 },
  f16: { atol: 1e-3, rtol: 2e-3 },
  bf16: { atol: 1e-2, rtol: 1.6e-2 },
  i32: { atol: 0, rtol: 0 },
  u32: { atol: 0, rtol: 0 },
  bool: { atol: 0, rtol: 0 },
};

/** Asserts |a - e| <= atol + rtol·|e| elementwise (NaN matches NaN, ±inf match exactly). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol: number },
  what = '',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: got ${actual.length} values, expected ${expected.length}`);
  }
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) {
        worst = i;
        break;
      }
      continue;
    }
    const err = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (err > worstErr) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what} element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`,
    );
  }
}

/** Reads a tensor as a plain number array. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}

/**
 * Checks autograd against central finite differences on the float64 reference
 * backend: `fn` maps the inputs to a scalar-valued loss (or any tensor, summed
 * with fixed random weights so every output element matters).
 */
export async function gradCheck(
  ref: Device,
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: { values: ArrayLike<number>; shape: number[] }[],
  options: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): Promise<void> {
  const eps = options.eps ?? 1e-6;
  const tol = { atol: options.atol ?? 1e-6, rtol: options.rtol ?? 1e-5 };
  const { mul, sum } = await import('../ops/index.js');
  const rand = rng(options.seed ?? 7);
  let weights: Float64Array | null = null;
  const loss = (ts: Tensor[]): Tensor => {
    const out = fn(...ts);
    weights ??= uniformValues(rand, out.size, 0.5, 1.5);
    const w = fromArray(weights, [...out.shape], { device: ref });
    const l = sum(mul(out, w));
    return l;
  };
  const leaves = inputs.map((x) =>
    fromArray(x.values, x.shape, { device: ref, requiresGrad: true }),
  );
  const l = loss(leaves);
  l.backward();
  for (let k = 0; k < inputs.length; k++) {
    const analytic = await values(leaves[k]!.grad!);
    const numeric: number[] = [];
    const base = Float64Array.from(inputs[k]!.values);
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number): Promise<number> => {
        const v = base.slice();
        v[i]! += delta;
        const ts = inputs.map((x, j) =>
          fromArray(j === k ? v : x.values, x.shape, { device: ref }),
        );
        return loss(ts).item();
      };
      numeric.push(((await at(eps)) - (await at(-eps))) / (2 * eps));
    }
    expectClose(analytic, numeric, tol, `gradient of input ${k}`);
  }
}
