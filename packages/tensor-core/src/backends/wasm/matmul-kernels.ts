/**
 * Native matmul: the module's packed, register-tiled SIMD product over the
 * operands' own strides (transposed operands are read in place), batched with
 * broadcast batch dims, split across threads.
 */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../../shape.js';
import type { WasmBackend } from './wasm-backend.js';
import { isF32Data, ptrOf, runReference, worthThreads } from './views.js';

/** Element offset of each batch's matrix when the view's batch dims broadcast to `batch`. */
function batchOffsets(
  view: TensorView,
  batch: readonly number[],
  out: Int32Array,
  lane: number,
): void {
  const rank = view.shape.length;
  const strides = broadcastStrides(
    view.shape.slice(0, rank - 2),
    view.strides.slice(0, rank - 2),
    batch,
  );
  const step = contiguousStrides(batch);
  const count = sizeOf(batch);
  for (let i = 0; i < count; i++) {
    let off = 0;
    for (let d = 0; d < batch.length; d++)
      off += (Math.floor(i / step[d]!) % batch[d]!) * strides[d]!;
    out[2 * i + lane] = off;
  }
}

registerKernel<WasmBackend, unknown>('matmul', 'wasm', (b, inputs, outputs, attrs) => {
  const [a, bm] = inputs;
  const [c] = outputs;
  const strides = [...a!.strides.slice(-2), ...bm!.strides.slice(-2)];
  if (!isF32Data(a!) || !isF32Data(bm!) || c!.dtype !== 'f32' || strides.some((s) => s < 0))
    return runReference('matmul', b, inputs, outputs, attrs);
  b.count('matmul', true);
  const rank = c!.shape.length;
  const batch = c!.shape.slice(0, rank - 2);
  const m = c!.shape[rank - 2]!;
  const n = c!.shape[rank - 1]!;
  const k = a!.shape[a!.shape.length - 1]!;
  const count = sizeOf(batch);
  if (count * m * n === 0) return;
  const table = b.scratch(count * 8);
  const heap = b.heapI32().subarray(table / 4, table / 4 + count * 2);
  batchOffsets(a!, batch, heap, 0);
  batchOffsets(bm!, batch, heap, 1);
  const work = b.matmulWorkspace();
  b.run(
    'matmul_f32',
    [ptrOf(a!), ptrOf(bm!), ptrOf(c!), m, n, k, ...strides, count, table, work],
    worthThreads(b, 2 * count * m * n * k, 1 << 18),
  );
});
