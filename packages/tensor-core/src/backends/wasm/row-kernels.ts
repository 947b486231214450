/**
 * Native reductions (sum, mean, max, min over a run of adjacent axes of
 * contiguous f32 data) and softmax/log-softmax with their gradients over the
 * last axis. Other layouts run the reference kernel.
 */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import type { WasmBackend } from './wasm-backend.js';
import { isDenseF32, prod, ptrOf, runReference, worthThreads } from './views.js';

const REDUCE_CODES: Record<string, number> = { sum: 0, mean: 0, max: 1, min: 2 };

for (const [op, code] of Object.entries(REDUCE_CODES)) {
  registerKernel<WasmBackend, { axes: number[] }>(op, 'wasm', (b, inputs, outputs, attrs) => {
    const [x] = inputs;
    const [y] = outputs;
    const axes = [...attrs.axes].sort((p, q) => p - q);
    const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
    if (!isDenseF32(x!) || y!.dtype !== 'f32' || !adjacent)
      return runReference(op, b, inputs, outputs, attrs);
    const shape = x!.shape;
    const first = axes.length ? axes[0]! : shape.length;
    const last = axes.length ? axes[axes.length - 1]! + 1 : shape.length;
    const outer = prod(shape, 0, first);
    const r = prod(shape, first, last);
    const inner = prod(shape, last);
    b.count(op, true);
    if (outer * inner === 0) return;
    b.run(
      'reduce_f32',
      [code, ptrOf(x!), ptrOf(y!), outer, r, inner, op === 'mean' ? r : 1],
      worthThreads(b, outer * r * inner) && outer * Math.ceil(inner / 4) > 1,
    );
  });
}

/** [rows, len] when `axis` is the last non-trivial axis of a contiguous view. */
function rowsAlong(v: TensorView, axis: number): [number, number] | null {
  if (!isDenseF32(v)) return null;
  if (prod(v.shape, axis + 1) !== 1) return null;
  return [prod(v.shape, 0, axis), v.shape.length ? v.shape[axis]! : 1];
}

for (const [op, kind] of [
  ['softmax', 0],
  ['log_softmax', 1],
] as const) {
  registerKernel<WasmBackend, { axis: number }>(op, 'wasm', (b, inputs, outputs, attrs) => {
    const [x] = inputs;
    const [y] = outputs;
    const rl = rowsAlong(x!, attrs.axis);
    if (!rl || y!.dtype !== 'f32') return runReference(op, b, inputs, outputs, attrs);
    b.count(op, true);
    const [rows, len] = rl;
    if (rows * len === 0) return;
    b.run(
      'softmax_f32',
      [kind, ptrOf(x!), ptrOf(y!), rows, len],
      worthThreads(b, rows * len, 32768) && rows > 1,
    );
  });
  const grad = `${op}_grad`;
  registerKernel<WasmBackend, { axis: number }>(grad, 'wasm', (b, inputs, outputs, attrs) => {
    const [yv, g] = inputs;
    const [dx] = outputs;
    const rl = rowsAlong(yv!, attrs.axis);
    if (!rl || !isDenseF32(g!) || sizeOf(g!.shape) !== sizeOf(yv!.shape) || dx!.dtype !== 'f32')
      return runReference(grad, b, inputs, outputs, attrs);
    b.count(grad, true);
    const [rows, len] = rl;
    if (rows * len === 0) return;
    b.run(
      'softmax_grad_f32',
      [kind, ptrOf(yv!), ptrOf(g!), ptrOf(dx!), rows, len],
      worthThreads(b, rows * len, 32768) && rows > 1,
    );
  });
}
