/**
 * Small helpers shared by this package's WebGPU kernels: reaching a view's
 * buffer, folding large grids into two dimensions, and declaring a uniform
 * struct and its bytes from one field list so the two cannot drift apart.
 */
import type { TensorView, WebGpuBackend } from '@fathom/tensor-core';

/** Invocations per workgroup of every kernel here. */
export const WORKGROUP = 256;

/** The GPU buffer behind a WebGPU tensor view. */
export function bufferOf(view: TensorView, op: string): GPUBuffer {
  const buffer = (view.handle as { buffer?: GPUBuffer }).buffer;
  if (!buffer) throw new Error(`${op}: expected a WebGPU storage handle; got another backend's`);
  return buffer;
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
      `${op}: ${what} holds ${view.handle.byteLength} bytes; this adapter binds at most ${max} bytes per buffer (split the parameter)`,
    );
  }
}

/** One scalar field of a uniform struct. */
export type UniformField = readonly [name: string, type: 'u32' | 'f32'];

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
    else view.setFloat32(i * 4, v, true);
  });
  return bytes;
}

/** WGSL for the flat index of this invocation (grid folded by {@link foldGrid}). */
export const FLAT_INDEX = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;
/** WGSL for the flat index of this workgroup. */
export const FLAT_GROUP = `wid.x + wid.y * nw.x`;
