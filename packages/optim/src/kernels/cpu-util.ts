/** Access to the reference backend's typed arrays for this package's reference kernels. */
import type { Backend, TensorView } from '@fathom/tensor-core';

/** The typed array a reference-backend view reads and writes (indexed by element). */
export type HostData = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** The typed array behind a view on the reference backend. */
export function dataOf(view: TensorView, op: string): HostData {
  const data = (view.handle as { data?: HostData }).data;
  if (!data) throw new Error(`${op}: expected a reference-backend storage handle; got another's`);
  return data;
}

/** Rounds a computed value as the backend stores floats: f32 unless it holds float64. */
export function floatStore(backend: Backend): (v: number) => number {
  return (backend as { float64?: boolean }).float64 ? (v) => v : Math.fround;
}

/** Values of a view in row-major order (any strides), as float64. */
export function readView(view: TensorView, op: string): Float64Array {
  const data = dataOf(view, op);
  const n = view.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const rank = view.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = view.offset;
  for (let i = 0; i < n; i++) {
    out[i] = data[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += view.strides[d]!;
      if (idx[d]! < view.shape[d]!) break;
      off -= view.strides[d]! * view.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
