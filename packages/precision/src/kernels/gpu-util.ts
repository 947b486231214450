/**
 * Helpers shared by this package's kernels: reaching a view's GPU buffer or
 * host array, folding large grids into two dimensions, and declaring a
 * uniform struct and its bytes from one field list so the two cannot drift.
 */
import type { Backend, TensorView, WebGpuBackend } from '@fathom/tensor-core';

/** Invocations per workgroup of the element-wise kernels here. */
export const WORKGROUP = 256;

/** The GPU buffer behind a WebGPU tensor view. */
export function bufferOf(view: TensorView, op: string): GPUBuffer {
  const buffer = (view.handle as { buffer?: GPUBuffer }).buffer;
  if (!buffer) throw new Error(`${op}: expected a WebGPU storage handle; got another backend's`);
  return buffer;
}

/** The typed array a reference-backend view reads and writes (indexed by element). */
export type HostData = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** The typed array behind a reference-backend view. */
export function dataOf(view: TensorView, op: string): HostData {
  const data = (view.handle as { data?: HostData }).data;
  if (!data) throw new Error(`${op}: expected a reference-backend storage handle; got another's`);
  return data;
}

/** Rounds a computed value as the reference backend stores floats: f32 unless it holds float64. */
export function floatStore(backend: Backend): (v: number) => number {
  return (backend as { float64?: boolean }).float64 ? (v) => v : Math.fround;
}

/** Workgroup counts for `groups` workgroups, folded into 2D past the per-dimension limit. */
export function foldGrid(backend: WebGpuBackend, groups: number): [number, number] {
  const maxX = backend.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1];
  const y = Math.ceil(groups / maxX);
  return [Math.ceil(groups / y), y];
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

/** WGSL for the flat index of this invocation (grid folded by {@link foldGrid}). */
export const FLAT_INDEX = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;
/** WGSL for the flat index of this workgroup. */
export const FLAT_GROUP = `wid.x + wid.y * nw.x`;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

/**
 * WGSL reading element `index` of a binding holding `dtype` as f32: 16-bit
 * floats are two per word (tensor-core's packed layout, low half first).
 */
export function loadF32(name: string, dtype: string, index: string): string {
  if (dtype === 'f16')
    return `prec_f16_to_f32((${name}[(${index}) >> 1u] >> (((${index}) & 1u) * 16u)) & 0xffffu)`;
  if (dtype === 'bf16')
    return `bitcast<f32>(((${name}[(${index}) >> 1u] >> (((${index}) & 1u) * 16u)) & 0xffffu) << 16u)`;
  return `${name}[${index}]`;
}

/** WGSL element type of a binding that holds `dtype`. */
export function wgslType(dtype: string): 'f32' | 'u32' | 'i32' {
  if (dtype === 'f32') return 'f32';
  if (dtype === 'i32') return 'i32';
  return 'u32';
}

/**
 * Bit-exact f32 ↔ f16 / bf16 conversions (round to nearest, ties to even), the
 * same integer arithmetic as tensor-core's kernels, so results agree with the
 * reference backend on every adapter.
 */
export const WGSL_HALF = /* wgsl */ `
fn prec_f16_to_f32(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    let v = f32(m) * 5.9604644775390625e-8;
    return select(v, -v, s != 0u);
  }
  if (e == 31u) { return bitcast<f32>(s | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}
fn prec_f32_to_f16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let exp = (bits >> 23u) & 0xffu;
  var mant = bits & 0x7fffffu;
  if (exp == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u); }
  let e = i32(exp) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var out = mant >> shift;
    if (rest > half || (rest == half && (out & 1u) == 1u)) { out = out + 1u; }
    return sign | out;
  }
  var out = (u32(e) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (out & 1u) == 1u)) { out = out + 1u; }
  return sign | out;
}
fn prec_f32_to_bf16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0u) { return ((bits >> 16u) | 0x40u) & 0xffffu; }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}
`;
