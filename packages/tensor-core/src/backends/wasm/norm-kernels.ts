/** Native fused layer/RMS norm forward and backward (contracts in ops/norms.ts). */
import type { TensorView } from '../../backend.js';
import type { NormAttrs, NormGradInputAttrs, NormParamGradAttrs } from '../../ops/norms.js';
import { registerKernel } from '../../registry.js';
import type { WasmBackend } from './wasm-backend.js';
import { isDenseF32, prod, ptrOf, runReference, worthThreads } from './views.js';

function rowsOf(x: TensorView): [number, number] {
  const D = x.shape[x.shape.length - 1]!;
  return [prod(x.shape, 0, x.shape.length - 1), D];
}

for (const [kind, code] of [
  ['layer', 0],
  ['rms', 1],
] as const) {
  const fwd = `${kind}_norm`;
  registerKernel<WasmBackend, NormAttrs>(fwd, 'wasm', (b, inputs, outputs, attrs) => {
    if (!inputs.every(isDenseF32) || outputs.some((o) => o.dtype !== 'f32'))
      return runReference(fwd, b, inputs, outputs, attrs);
    b.count(fwd, true);
    const [x] = inputs;
    const w = attrs.hasWeight ? ptrOf(inputs[1]!) : 0;
    const bias = attrs.hasBias ? ptrOf(inputs[attrs.hasWeight ? 2 : 1]!) : 0;
    const [rows, D] = rowsOf(x!);
    const mean = kind === 'layer' ? ptrOf(outputs[1]!) : 0;
    const rstd = ptrOf(outputs[kind === 'layer' ? 2 : 1]!);
    if (rows === 0) return;
    b.run(
      'norm_f32',
      [code, ptrOf(x!), w, bias, ptrOf(outputs[0]!), mean, rstd, rows, D, attrs.eps],
      worthThreads(b, rows * D, 32768) && rows > 1,
    );
  });

  const gin = `${kind}_norm_grad_input`;
  registerKernel<WasmBackend, NormGradInputAttrs>(gin, 'wasm', (b, inputs, outputs, attrs) => {
    if (!inputs.every(isDenseF32) || outputs[0]!.dtype !== 'f32')
      return runReference(gin, b, inputs, outputs, attrs);
    b.count(gin, true);
    const [x, dy] = inputs;
    const mean = kind === 'layer' ? ptrOf(inputs[2]!) : 0;
    const rstd = ptrOf(inputs[kind === 'layer' ? 3 : 2]!);
    const w = attrs.hasWeight ? ptrOf(inputs[kind === 'layer' ? 4 : 3]!) : 0;
    const [rows, D] = rowsOf(x!);
    if (rows === 0) return;
    b.run(
      'norm_grad_input_f32',
      [code, ptrOf(x!), ptrOf(dy!), mean, rstd, w, ptrOf(outputs[0]!), rows, D],
      worthThreads(b, rows * D, 32768) && rows > 1,
    );
  });

  const gp = `${kind}_norm_grad_params`;
  registerKernel<WasmBackend, NormParamGradAttrs>(gp, 'wasm', (b, inputs, outputs, attrs) => {
    if (!inputs.every(isDenseF32) || outputs.some((o) => o.dtype !== 'f32'))
      return runReference(gp, b, inputs, outputs, attrs);
    b.count(gp, true);
    const [x, dy] = inputs;
    const mean = kind === 'layer' ? ptrOf(inputs[2]!) : 0;
    const rstd = ptrOf(inputs[kind === 'layer' ? 3 : 2]!);
    const dw = attrs.weight ? ptrOf(outputs[0]!) : 0;
    const db = attrs.bias ? ptrOf(outputs[attrs.weight ? 1 : 0]!) : 0;
    const [rows, D] = rowsOf(x!);
    if (D === 0) return;
    b.run(
      'norm_grad_params_f32',
      [ptrOf(x!), ptrOf(dy!), mean, rstd, dw, db, rows, D],
      worthThreads(b, rows * D, 32768) && D > 4,
    );
  });
}
