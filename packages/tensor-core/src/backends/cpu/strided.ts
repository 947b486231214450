/** Strided iteration helpers for reference kernels. */
import type { TensorView } from '../../backend.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { dataOf } from './cpu-backend.js';

/**
 * Element offsets of `view` read in row-major order of `shape` (broadcasting the
 * view to `shape` when they differ).
 */
export function offsetsOf(
  view: TensorView,
  shape: readonly number[] = view.shape,
): Int32Array | Float64Array {
  const n = sizeOf(shape);
  const strides = broadcastStrides(view.shape, view.strides, shape);
  const out = n < 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = view.offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The view's values in row-major order of `shape` (broadcast if needed), as float64. */
export function valuesOf(view: TensorView, shape: readonly number[] = view.shape): Float64Array {
  const data = dataOf(view.handle);
  const offs = offsetsOf(view, shape);
  const out = new Float64Array(offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = data[offs[i]!]!;
  return out;
}
