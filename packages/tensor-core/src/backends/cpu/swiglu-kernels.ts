/** Reference kernels of the fused SwiGLU gate (contracts in ops/swiglu.ts). */
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf, storeAs } from './cpu-backend.js';
import { valuesOf } from './strided.js';

const sigmoid = (x: number): number =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));

registerKernel<CpuBackend, unknown>('swiglu', 'cpu', (backend, [gate, up], [y]) => {
  const g = valuesOf(gate!);
  const u = valuesOf(up!);
  const out = dataOf(y!.handle);
  const store = storeAs(y!.dtype, backend.float64);
  for (let i = 0; i < g.length; i++) out[i] = store(g[i]! * sigmoid(g[i]!) * u[i]!);
});

registerKernel<CpuBackend, unknown>('swiglu_grad', 'cpu', (backend, [gate, up, dy], [dg, du]) => {
  const g = valuesOf(gate!);
  const u = valuesOf(up!);
  const d = valuesOf(dy!);
  const dgOut = dataOf(dg!.handle);
  const duOut = dataOf(du!.handle);
  const sg = storeAs(dg!.dtype, backend.float64);
  const su = storeAs(du!.dtype, backend.float64);
  for (let i = 0; i < g.length; i++) {
    const s = sigmoid(g[i]!);
    dgOut[i] = sg(d[i]! * u[i]! * s * (1 + g[i]! * (1 - s)));
    duOut[i] = su(d[i]! * g[i]! * s);
  }
});
