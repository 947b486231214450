/** Reference kernels of concat (all inputs into one output along an axis) and pad. */
import { registerKernel } from '../../registry.js';
import { contiguousStrides, sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { coordsOf } from './indexing-kernels.js';
import { valuesOf } from './strided.js';

registerKernel<CpuBackend, { axis: number }>('concat', 'cpu', (_b, inputs, [out], { axis }) => {
  const data = dataOf(out!.handle);
  const os = contiguousStrides(out!.shape);
  let start = 0;
  for (const x of inputs) {
    const vals = valuesOf(x);
    for (let e = 0; e < vals.length; e++) {
      const c = coordsOf(e, x.shape);
      c[axis] = c[axis]! + start;
      let o = 0;
      for (let d = 0; d < c.length; d++) o += c[d]! * os[d]!;
      data[o] = vals[e]!;
    }
    start += x.shape[axis]!;
  }
});

registerKernel<CpuBackend, { before: number[]; value: number }>(
  'pad',
  'cpu',
  (_b, [x], [out], { before, value }) => {
    const data = dataOf(out!.handle);
    const vals = valuesOf(x!);
    const xs = contiguousStrides(x!.shape);
    const fillValue = out!.dtype === 'bool' ? (value !== 0 && !Number.isNaN(value) ? 1 : 0) : value;
    const n = sizeOf(out!.shape);
    for (let e = 0; e < n; e++) {
      const c = coordsOf(e, out!.shape);
      let o = 0;
      let inside = true;
      for (let d = 0; d < c.length; d++) {
        const ic = c[d]! - before[d]!;
        if (ic < 0 || ic >= x!.shape[d]!) inside = false;
        o += ic * xs[d]!;
      }
      data[e] = inside ? vals[o]! : fillValue;
    }
  },
);
