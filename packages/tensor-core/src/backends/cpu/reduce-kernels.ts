/** Reference kernels of sum, mean, max, min and prod over any axes. */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';
import { mapKernel } from './elementwise-kernels.js';

/** Reduces `x` over `axes` into `out`, combining the values of each output element with `fold`. */
export function reduceKernel(
  backend: CpuBackend,
  x: TensorView,
  out: TensorView,
  axes: readonly number[],
  fold: (values: Float64Array) => number,
): void {
  // Move reduced axes last, then each output element owns one contiguous run.
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kept, ...axes];
  const permuted: TensorView = {
    ...x,
    shape: order.map((i) => x.shape[i]!),
    strides: order.map((i) => x.strides[i]!),
  };
  const vals = valuesOf(permuted);
  const r = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const results = new Float64Array(dataOf(out.handle).length);
  for (let o = 0; o < results.length; o++) results[o] = fold(vals.subarray(o * r, o * r + r));
  mapKernel(
    backend,
    [],
    out,
    (() => {
      let i = 0;
      return () => results[i++]!;
    })(),
  );
}

const FOLDS: Record<string, (v: Float64Array) => number> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  prod: (v) => v.reduce((a, b) => a * b, 1),
  max: (v) => v.reduce((a, b) => Math.max(a, b), -Infinity),
  min: (v) => v.reduce((a, b) => Math.min(a, b), Infinity),
};

for (const [op, fold] of Object.entries(FOLDS)) {
  registerKernel<CpuBackend, { axes: number[] }>(op, 'cpu', (b, [x], [y], { axes }) =>
    reduceKernel(b, x!, y!, axes, fold),
  );
}
