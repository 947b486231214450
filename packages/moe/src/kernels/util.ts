/**
 * Shared pieces of this package's kernels: the workgroup size, flat indices,
 * shape and dtype checks, and access to the reference backend's arrays.
 */
import type { Backend, TensorView } from '@fathom/tensor-core';

export {
  assertBindable,
  bufferOf,
  foldGrid,
  packUniforms,
  uniformStruct,
} from '@fathom/tensor-core';
export type { UniformField } from '@fathom/tensor-core';

/** Invocations per workgroup of the one-dimensional kernels here. */
export const WORKGROUP = 256;

/** Rows of a grouped-matmul tile; expert segments start on multiples of it. */
export const TILE = 16;

/** WGSL for the flat index of this invocation (grid folded by `foldGrid`). */
export const FLAT_INDEX = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

/** Refuses views whose dtype is not the one a kernel reads. */
export function assertDtypes(
  op: string,
  views: readonly TensorView[],
  dtypes: readonly string[],
): void {
  views.forEach((v, i) => {
    if (v.dtype !== dtypes[i])
      throw new TypeError(`${op}: tensor ${i} has dtype ${v.dtype}; expected ${dtypes[i]}`);
  });
}

/** Refuses views that are not contiguous (the kernels index them flat from their offset). */
export function assertContiguous(op: string, views: readonly TensorView[]): void {
  views.forEach((v, i) => {
    let stride = 1;
    for (let d = v.shape.length - 1; d >= 0; d--) {
      if (v.shape[d] !== 1 && v.strides[d] !== stride)
        throw new Error(`internal: ${op} tensor ${i} is not contiguous`);
      stride *= v.shape[d]!;
    }
  });
}

/** The typed array behind a reference-backend view (indexed by element). */
export type HostData = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** The typed array behind a view on the reference backend, or a clear error. */
export function dataOf(view: TensorView, op: string): HostData {
  const data = (view.handle as { data?: HostData }).data;
  if (!data) throw new Error(`${op}: expected a reference-backend storage handle; got another's`);
  return data;
}

/** Rounds a value as the reference backend stores floats: f32 unless it holds float64. */
export function floatStore(backend: Backend): (v: number) => number {
  return (backend as { float64?: boolean }).float64 ? (v) => v : Math.fround;
}
