/** Reference kernels of the fused cross-entropy and its backward (contracts in ops/cross-entropy.ts). */
import type { TensorView } from '../../backend.js';
import type { CrossEntropyAttrs } from '../../ops/cross-entropy.js';
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

function classesOf(logits: TensorView): number {
  return logits.shape[logits.shape.length - 1]!;
}

registerKernel<CpuBackend, CrossEntropyAttrs>(
  'cross_entropy',
  'cpu',
  (_b, [logitsView, targetsView], outputs, { ignoreIndex, labelSmoothing: eps, reduction }) => {
    const x = valuesOf(logitsView!);
    const t = valuesOf(targetsView!);
    const C = classesOf(logitsView!);
    const N = t.length;
    const rowLoss = new Float64Array(N);
    const lse = dataOf(outputs[1]!.handle);
    let total = 0;
    let count = 0;
    for (let r = 0; r < N; r++) {
      const row = x.subarray(r * C, r * C + C);
      const m = row.reduce((a, v) => Math.max(a, v), -Infinity);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      const logS = Math.log(s);
      const l = m + logS;
      lse[2 * r] = m;
      lse[2 * r + 1] = logS;
      const target = t[r]!;
      if (target === ignoreIndex) continue;
      count++;
      if (target < 0 || target >= C) {
        rowLoss[r] = NaN;
      } else {
        rowLoss[r] = (1 - eps) * (m - row[target]! + logS);
        // Skipped at ε = 0 so that a −inf logit does not turn the loss into 0·inf = NaN.
        if (eps > 0) rowLoss[r] = rowLoss[r]! + eps * (l - row.reduce((a, v) => a + v, 0) / C);
      }
      total += rowLoss[r]!;
    }
    const loss = dataOf(outputs[0]!.handle);
    if (reduction === 'none') {
      loss.set(rowLoss);
    } else {
      loss[0] = reduction === 'sum' ? total : count === 0 ? NaN : total / count;
      dataOf(outputs[2]!.handle)[0] = count;
    }
  },
);

registerKernel<CpuBackend, CrossEntropyAttrs>(
  'cross_entropy_grad',
  'cpu',
  (_b, inputs, [dxView], { ignoreIndex, labelSmoothing: eps, reduction }) => {
    const x = valuesOf(inputs[0]!);
    const t = valuesOf(inputs[1]!);
    const lse = valuesOf(inputs[2]!);
    const g = valuesOf(inputs[3]!);
    const count = reduction === 'mean' ? valuesOf(inputs[4]!)[0]! : 1;
    const C = classesOf(inputs[0]!);
    const dx = dataOf(dxView!.handle);
    for (let r = 0; r < t.length; r++) {
      const target = t[r]!;
      const scale = reduction === 'none' ? g[r]! : g[0]! / count;
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        if (target === ignoreIndex) dx[i] = 0;
        else if (target < 0 || target >= C) dx[i] = NaN;
        else {
          const smoothed = (c === target ? 1 - eps : 0) + eps / C;
          dx[i] = (Math.exp(x[i]! - lse[2 * r]! - lse[2 * r + 1]!) - smoothed) * scale;
        }
      }
    }
  },
);
