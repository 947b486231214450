/**
 * Reference kernel of matmul: a direct triple loop over strided operands.
 * The op function hands it rank ≥ 2 views `a: [...batchA, M, K]` and
 * `b: [...batchB, K, N]` (transposes already folded into the strides); batch
 * dims broadcast to the output's `[...batch, M, N]`.
 */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';

/** Storage offset of each batch's matrix of `view` when its batch dims broadcast to `batch`. */
function batchOffsets(view: TensorView, batch: readonly number[]): number[] {
  const rank = view.shape.length;
  const strides = broadcastStrides(
    view.shape.slice(0, rank - 2),
    view.strides.slice(0, rank - 2),
    batch,
  );
  const step = contiguousStrides(batch);
  const out: number[] = [];
  for (let i = 0; i < sizeOf(batch); i++) {
    let off = view.offset;
    for (let d = 0; d < batch.length; d++)
      off += (Math.floor(i / step[d]!) % batch[d]!) * strides[d]!;
    out.push(off);
  }
  return out;
}

registerKernel<CpuBackend, unknown>('matmul', 'cpu', (backend, [a, b], [c]) => {
  const out = c!;
  const rank = out.shape.length;
  const batch = out.shape.slice(0, rank - 2);
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  const k = a!.shape[a!.shape.length - 1]!;
  const [ars, acs] = a!.strides.slice(-2) as [number, number];
  const [brs, bcs] = b!.strides.slice(-2) as [number, number];
  const ad = dataOf(a!.handle);
  const bd = dataOf(b!.handle);
  const cd = dataOf(out.handle);
  const round = backend.float64 ? (v: number) => v : Math.fround;
  const aOffs = batchOffsets(a!, batch);
  const bOffs = batchOffsets(b!, batch);
  for (let t = 0; t < aOffs.length; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        let ao = aOffs[t]! + i * ars;
        let bo = bOffs[t]! + j * bcs;
        for (let p = 0; p < k; p++, ao += acs, bo += brs) acc += ad[ao]! * bd[bo]!;
        cd[(t * m + i) * n + j] = round(acc);
      }
    }
  }
});
