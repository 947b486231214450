/**
 * Reference kernels of the indexing ops: index_select, gather, scatter_add and
 * index_select_grad (embedding's gradient). An index outside [0, dim) reads 0
 * and scatters nothing, as on every backend.
 */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { contiguousStrides, sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** The row-major coordinates of linear index `i` in `shape`. */
export function coordsOf(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  let rem = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = rem % shape[d]!;
    rem = Math.floor(rem / shape[d]!);
  }
  return c;
}

/** The linear index of coordinates `c` in a contiguous tensor with `strides`. */
function linear(c: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < c.length; d++) o += c[d]! * strides[d]!;
  return o;
}

/** True when `t` is a valid position along a dim of size `dim`. */
function inRange(t: number, dim: number): boolean {
  return t >= 0 && t < dim;
}

registerKernel<CpuBackend, { axis: number }>(
  'index_select',
  'cpu',
  (_b, [x, index], [out], { axis }) => {
    const xv = valuesOf(x!);
    const iv = valuesOf(index!);
    const xs = contiguousStrides(x!.shape);
    const data = dataOf(out!.handle);
    const n = sizeOf(out!.shape);
    for (let e = 0; e < n; e++) {
      const c = coordsOf(e, out!.shape);
      const t = iv[c[axis]!]!;
      if (!inRange(t, x!.shape[axis]!)) {
        data[e] = 0;
        continue;
      }
      c[axis] = t;
      data[e] = xv[linear(c, xs)]!;
    }
  },
);

registerKernel<CpuBackend, { axis: number }>('gather', 'cpu', (_b, [x, index], [out], { axis }) => {
  const xv = valuesOf(x!);
  const iv = valuesOf(index!);
  const xs = contiguousStrides(x!.shape);
  const data = dataOf(out!.handle);
  for (let e = 0; e < iv.length; e++) {
    const t = iv[e]!;
    if (!inRange(t, x!.shape[axis]!)) {
      data[e] = 0;
      continue;
    }
    const c = coordsOf(e, index!.shape);
    c[axis] = t;
    data[e] = xv[linear(c, xs)]!;
  }
});

/** Adds `src` into `data` (contiguous, of `shape`) at `index` along `axis`, in index order. */
function scatterInto(
  data: ReturnType<typeof dataOf>,
  shape: readonly number[],
  axis: number,
  index: TensorView,
  src: TensorView,
): void {
  const iv = valuesOf(index);
  const sv = valuesOf(src);
  const strides = contiguousStrides(shape);
  for (let e = 0; e < iv.length; e++) {
    const t = iv[e]!;
    if (!inRange(t, shape[axis]!)) continue;
    const c = coordsOf(e, index.shape);
    c[axis] = t;
    const o = linear(c, strides);
    data[o] = data[o]! + sv[e]!;
  }
}

registerKernel<CpuBackend, { axis: number }>(
  'scatter_add',
  'cpu',
  (_b, [x, index, src], [out], { axis }) => {
    const data = dataOf(out!.handle);
    data.set(valuesOf(x!));
    scatterInto(data, out!.shape, axis, index!, src!);
  },
);

registerKernel<CpuBackend, { axis: number }>(
  'index_select_grad',
  'cpu',
  (_b, [g, index], [dx], { axis }) => {
    const data = dataOf(dx!.handle);
    data.fill(0);
    // index_select's index is 1-D: broadcast it along g's other dims into gather's form.
    const strides = g!.shape.map((_, d) => (d === axis ? index!.strides[0]! : 0));
    const full: TensorView = { ...index!, shape: g!.shape, strides };
    scatterInto(data, dx!.shape, axis, full, g!);
  },
);
