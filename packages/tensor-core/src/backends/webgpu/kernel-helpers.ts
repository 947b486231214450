/**
 * Helpers for writing WebGPU kernels, in tensor-core and in packages that
 * register their own (optim, precision, quant, moe): reaching a view's buffer,
 * folding large grids, refusing oversized bindings, and declaring a uniform
 * struct and its bytes from one field list so the two cannot drift apart.
 */
import type { TensorView } from '../../backend.js';
import { GpuStorage, type WebGpuBackend } from './webgpu-backend.js';

/** The GPU buffer behind a WebGPU tensor view; a clear error for another backend's view. */
export function bufferOf(view: TensorView, op: string): GPUBuffer {
  if (!(view.handle instanceof GpuStorage)) {
    throw new Error(`${op}: expected a WebGPU storage handle; got another backend's`);
  }
  return view.handle.buffer;
}

/** Workgroup counts for `groups` workgroups, folded into 2D past the per-dimension limit. */
export function foldGrid(backend: WebGpuBackend, groups: number): [number, number] {
  const maxX = backend.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1];
  const y = Math.ceil(groups / maxX);
  return [Math.ceil(groups / y), y];
}

/** Refuses a binding larger than the adapter allows, naming the op and the tensor. */
export function assertBindable(
  backend: WebGpuBackend,
  view: TensorView,
  op: string,
  what: string,
): void {
  const max = backend.limits.maxStorageBufferBindingSize;
  if (view.handle.byteLength > max) {
    throw new RangeError(
      `${op}: ${what} holds ${view.handle.byteLength} bytes; this adapter binds at most ${max} bytes per buffer`,
    );
  }
}

/** One scalar field of a uniform struct. */
export type UniformField = readonly [name: string, type: 'u32' | 'f32' | 'i32'];

/** WGSL declaration of a struct of 4-byte scalars. */
export function uniformStruct(name: string, fields: readonly UniformField[]): string {
  return `struct ${name} {\n${fields.map(([f, t]) => `  ${f}: ${t},`).join('\n')}\n}`;
}

/** The bytes of a struct declared by {@link uniformStruct}, padded to 16 bytes. */
export function packUniforms(
  fields: readonly UniformField[],
  values: Readonly<Record<string, number>>,
): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(bytes);
  fields.forEach(([name, type], i) => {
    const v = values[name];
    if (v === undefined) throw new Error(`internal: uniform ${name} has no value`);
    if (type === 'u32') view.setUint32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return bytes;
}
