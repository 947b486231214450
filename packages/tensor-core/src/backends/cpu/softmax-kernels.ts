/** Reference kernels of softmax, log-softmax and their fused gradients, row by row in float64. */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** Splits a shape at `axis` into (outer, length, inner); a scalar is one row of length 1. */
function rowsOf(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/**
 * Calls `row` once per row along `axis` with the inputs' values of that row (row-major order
 * of the output, inputs broadcast to its shape) and writes what it returns.
 */
function eachRow(
  backend: CpuBackend,
  inputs: readonly TensorView[],
  out: TensorView,
  axis: number,
  row: (...values: Float64Array[]) => Float64Array,
): void {
  const vals = inputs.map((v) => valuesOf(v, out.shape));
  const data = dataOf(out.handle);
  const round = backend.float64 ? (v: number) => v : Math.fround;
  const [outer, len, inner] = rowsOf(out.shape, axis);
  const bufs = vals.map(() => new Float64Array(len));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      for (let j = 0; j < len; j++) bufs.forEach((b, k) => (b[j] = vals[k]![base + j * inner]!));
      const r = row(...bufs);
      for (let j = 0; j < len; j++) data[base + j * inner] = round(r[j]!);
    }
  }
}

function maxOf(v: Float64Array): number {
  let m = -Infinity;
  for (const x of v) m = Number.isNaN(x) ? NaN : Math.max(m, x);
  return m;
}

function softmaxRow(x: Float64Array): Float64Array {
  const m = maxOf(x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function logSoftmaxRow(x: Float64Array): Float64Array {
  const m = maxOf(x);
  const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
  return x.map((v) => v - lse);
}

type Attrs = { axis: number };

registerKernel<CpuBackend, Attrs>('softmax', 'cpu', (b, [x], [y], { axis }) =>
  eachRow(b, [x!], y!, axis, softmaxRow),
);
registerKernel<CpuBackend, Attrs>('log_softmax', 'cpu', (b, [x], [y], { axis }) =>
  eachRow(b, [x!], y!, axis, logSoftmaxRow),
);
// dx = y·(g − Σ g·y)
registerKernel<CpuBackend, Attrs>('softmax_grad', 'cpu', (b, [y, g], [dx], { axis }) =>
  eachRow(b, [y!, g!], dx!, axis, (yv, gv) => {
    const dot = yv.reduce((a, v, j) => a + v * gv[j]!, 0);
    return yv.map((v, j) => v * (gv[j]! - dot));
  }),
);
// dx = g − exp(y)·Σ g, with y = log-softmax(x).
registerKernel<CpuBackend, Attrs>('log_softmax_grad', 'cpu', (b, [y, g], [dx], { axis }) =>
  eachRow(b, [y!, g!], dx!, axis, (yv, gv) => {
    const total = gv.reduce((a, v) => a + v, 0);
    return gv.map((v, j) => v - Math.exp(yv[j]!) * total);
  }),
);
