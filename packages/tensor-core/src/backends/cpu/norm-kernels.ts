/** Reference kernels of the fused layer/RMS norms and their backward (contracts in ops/norms.ts). */
import type { TensorView } from '../../backend.js';
import type {
  NormAttrs,
  NormGradInputAttrs,
  NormKind,
  NormParamGradAttrs,
} from '../../ops/norms.js';
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** Rows and row length of x read as [rows, D]. */
function rowsOf(x: TensorView): { rows: number; D: number } {
  const D = x.shape[x.shape.length - 1]!;
  let rows = 1;
  for (let i = 0; i < x.shape.length - 1; i++) rows *= x.shape[i]!;
  return { rows, D };
}

function forward(
  kind: NormKind,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  { eps, hasWeight, hasBias }: NormAttrs,
): void {
  const x = valuesOf(inputs[0]!);
  const w = hasWeight ? valuesOf(inputs[1]!) : null;
  const b = hasBias ? valuesOf(inputs[hasWeight ? 2 : 1]!) : null;
  const { rows, D } = rowsOf(inputs[0]!);
  const y = dataOf(outputs[0]!.handle);
  const meanOut = kind === 'layer' ? dataOf(outputs[1]!.handle) : null;
  const rstdOut = dataOf(outputs[kind === 'layer' ? 2 : 1]!.handle);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let mean = 0;
    if (kind === 'layer') {
      for (let c = 0; c < D; c++) mean += x[base + c]!;
      mean /= D;
    }
    let sq = 0;
    for (let c = 0; c < D; c++) sq += (x[base + c]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(sq / D + eps);
    for (let c = 0; c < D; c++) {
      let v = (x[base + c]! - mean) * rstd;
      if (w) v *= w[c]!;
      if (b) v += b[c]!;
      y[base + c] = v;
    }
    if (meanOut) meanOut[r] = mean;
    rstdOut[r] = rstd;
  }
}

/** dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w (the mean(g) term only for layer norm). */
function gradInput(
  kind: NormKind,
  inputs: readonly TensorView[],
  [dxView]: readonly TensorView[],
  { hasWeight }: NormGradInputAttrs,
): void {
  const x = valuesOf(inputs[0]!);
  const dy = valuesOf(inputs[1]!);
  const mean = kind === 'layer' ? valuesOf(inputs[2]!) : null;
  const rstd = valuesOf(inputs[kind === 'layer' ? 3 : 2]!);
  const w = hasWeight ? valuesOf(inputs[kind === 'layer' ? 4 : 3]!) : null;
  const { rows, D } = rowsOf(inputs[0]!);
  const dx = dataOf(dxView!.handle);
  const g = new Float64Array(D);
  const xhat = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const m = mean ? mean[r]! : 0;
    const s = rstd[r]!;
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < D; c++) {
      g[c] = dy[base + c]! * (w ? w[c]! : 1);
      xhat[c] = (x[base + c]! - m) * s;
      sumG += g[c]!;
      sumGX += g[c]! * xhat[c]!;
    }
    const meanG = kind === 'layer' ? sumG / D : 0;
    const meanGX = sumGX / D;
    for (let c = 0; c < D; c++) dx[base + c] = s * (g[c]! - meanG - xhat[c]! * meanGX);
  }
}

/** dweight = Σ_rows dy·x̂, dbias = Σ_rows dy. */
function gradParams(
  kind: NormKind,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  { weight, bias }: NormParamGradAttrs,
): void {
  const x = valuesOf(inputs[0]!);
  const dy = valuesOf(inputs[1]!);
  const mean = kind === 'layer' ? valuesOf(inputs[2]!) : null;
  const rstd = valuesOf(inputs[kind === 'layer' ? 3 : 2]!);
  const { rows, D } = rowsOf(inputs[0]!);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const m = mean ? mean[r]! : 0;
    const s = rstd[r]!;
    for (let c = 0; c < D; c++) {
      dw[c] = dw[c]! + dy[base + c]! * (x[base + c]! - m) * s;
      db[c] = db[c]! + dy[base + c]!;
    }
  }
  if (weight) dataOf(outputs[0]!.handle).set(dw);
  if (bias) dataOf(outputs[weight ? 1 : 0]!.handle).set(db);
}

for (const kind of ['layer', 'rms'] as const) {
  registerKernel<CpuBackend, NormAttrs>(`${kind}_norm`, 'cpu', (_b, i, o, a) =>
    forward(kind, i, o, a),
  );
  registerKernel<CpuBackend, NormGradInputAttrs>(`${kind}_norm_grad_input`, 'cpu', (_b, i, o, a) =>
    gradInput(kind, i, o, a),
  );
  registerKernel<CpuBackend, NormParamGradAttrs>(`${kind}_norm_grad_params`, 'cpu', (_b, i, o, a) =>
    gradParams(kind, i, o, a),
  );
}
