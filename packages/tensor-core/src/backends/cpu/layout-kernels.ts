/** Reference kernel of slice's backward: scatter the slice's gradient into zeros. */
import { registerKernel } from '../../registry.js';
import { contiguousStrides, sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

registerKernel<CpuBackend, { starts: number[]; steps: number[] }>(
  'slice_grad',
  'cpu',
  (_b, [g], [dx], { starts, steps }) => {
    const out = dataOf(dx!.handle);
    out.fill(0);
    const vals = valuesOf(g!);
    const outStrides = contiguousStrides(dx!.shape);
    const n = sizeOf(g!.shape);
    const rank = g!.shape.length;
    for (let i = 0; i < n; i++) {
      let rem = i;
      let o = 0;
      for (let d = rank - 1; d >= 0; d--) {
        const c = rem % g!.shape[d]!;
        rem = Math.floor(rem / g!.shape[d]!);
        o += (starts[d]! + c * steps[d]!) * outStrides[d]!;
      }
      out[o] = vals[i]!;
    }
  },
);
