/**
 * Native copy/cast between 32-bit layouts of one kind (strided gathers, e.g. a
 * transposed view made contiguous) and fill. Other cases run the reference kernel.
 */
import type { TensorView } from '../../backend.js';
import { isFloat } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { storeAs } from '../cpu/cpu-backend.js';
import { WasmStorage, type WasmBackend } from './wasm-backend.js';
import { collapse, ptrOf, runReference, worthThreads } from './views.js';

/** Same 32-bit representation in and out: float data into f32, or i32/u32 into itself. */
function sameWords(x: TensorView, y: TensorView): boolean {
  if (!(x.handle instanceof WasmStorage)) return false;
  if (isFloat(x.dtype)) return y.dtype === 'f32';
  return (x.dtype === 'i32' || x.dtype === 'u32') && y.dtype === x.dtype;
}

for (const op of ['copy', 'cast']) {
  registerKernel<WasmBackend, unknown>(op, 'wasm', (b, inputs, outputs, attrs) => {
    const [x] = inputs;
    const [y] = outputs;
    const flat = sameWords(x!, y!) ? collapse(x!, 4) : null;
    if (!flat) return runReference(op, b, inputs, outputs, attrs);
    b.count(op, true);
    const n = sizeOf(y!.shape);
    if (n === 0) return;
    b.run(
      'copy32',
      [ptrOf(x!), ptrOf(y!), ...flat.shape, ...flat.strides],
      worthThreads(b, n, 1 << 17),
    );
  });
}

registerKernel<WasmBackend, { value: number }>('fill', 'wasm', (b, inputs, outputs, attrs) => {
  const [y] = outputs;
  b.count('fill', true);
  const data = (y!.handle as WasmStorage).data;
  data.fill(storeAs(y!.dtype, false)(attrs.value));
  void inputs;
});
