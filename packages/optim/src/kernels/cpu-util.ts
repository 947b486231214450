/** Access to the reference backend's typed arrays for this package's reference kernels. */
import { type Backend, type TensorView, valuesOf } from '@fathom/tensor-core';

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
  dataOf(view, op); // a clear error for another backend's view
  return valuesOf(view);
}
