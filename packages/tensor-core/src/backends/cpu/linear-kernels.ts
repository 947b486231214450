/** Reference kernel of the fused linear op (contract in ops/linear.ts): a direct loop. */
import { UNARY } from '../../ops/elementwise-table.js';
import type { LinearAttrs } from '../../ops/linear.js';
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf, storeAs } from './cpu-backend.js';
import { valuesOf } from './strided.js';

registerKernel<CpuBackend, LinearAttrs>('linear', 'cpu', (backend, inputs, outputs, attrs) => {
  const [xv, wv, bv] = inputs;
  const [R, K] = xv!.shape as [number, number];
  const N = wv!.shape[0]!;
  const x = valuesOf(xv!);
  const w = valuesOf(wv!);
  const bias = attrs.hasBias ? valuesOf(bv!) : null;
  const act = attrs.activation ? UNARY[attrs.activation]!.ref : null;
  const y = dataOf(outputs[0]!.handle);
  const pre = attrs.savePre ? dataOf(outputs[1]!.handle) : null;
  const sy = storeAs(outputs[0]!.dtype, backend.float64);
  const sp = storeAs('f32', backend.float64);
  for (let r = 0; r < R; r++)
    for (let n = 0; n < N; n++) {
      let acc = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) acc += x[r * K + k]! * w[n * K + k]!;
      if (pre) pre[r * N + n] = sp(acc);
      y[r * N + n] = sy(act ? act(acc) : acc);
    }
});
