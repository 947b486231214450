/**
 * Helpers shared by this package's kernels: reaching a view's GPU buffer or
 * host array, folding large grids into two dimensions, and declaring a
 * uniform struct and its bytes from one field list so the two cannot drift.
 */
import {
  type Backend,
  type DType,
  type TensorView,
  WGSL_DTYPE_HELPERS,
  loadExpr,
  storageType,
} from '@fathom/tensor-core';

export { bufferOf, foldGrid, packUniforms, uniformStruct } from '@fathom/tensor-core';
export type { UniformField } from '@fathom/tensor-core';

/** Invocations per workgroup of the element-wise kernels here. */
export const WORKGROUP = 256;

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

/** WGSL for the flat index of this invocation (grid folded by {@link foldGrid}). */
export const FLAT_INDEX = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;
/** WGSL for the flat index of this workgroup. */
export const FLAT_GROUP = `wid.x + wid.y * nw.x`;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

/** WGSL reading element `index` of a binding holding a float `dtype`, as f32 (tensor-core's packed 16-bit layout). */
export function loadF32(name: string, dtype: string, index: string): string {
  return loadExpr(name, dtype as DType, index);
}

/** WGSL element type of a binding that holds `dtype`. */
export function wgslType(dtype: string): 'f32' | 'u32' | 'i32' {
  return storageType(dtype as DType);
}

/** tensor-core's bit-exact f32 ↔ f16 / bf16 conversions (`fathom_f16_to_f32`, `fathom_f32_to_f16`, `fathom_f32_to_bf16`, …). */
export const WGSL_HALF = WGSL_DTYPE_HELPERS;
