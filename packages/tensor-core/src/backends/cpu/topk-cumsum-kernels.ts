/**
 * Reference kernels of topk and cumsum, row by row along an axis. topk orders
 * NaN above every number, -0 equal to +0, and equal values by smaller index.
 */
import { registerKernel } from '../../registry.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** Calls `fn` for every line of a contiguous tensor of `shape` along `axis`, with the line's input and output base offsets and their stride. */
function forEachLine(
  shape: readonly number[],
  axis: number,
  outLen: number,
  fn: (line: number, inBase: number, outBase: number, inner: number) => void,
): void {
  const len = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++)
      fn(o * inner + i, o * len * inner + i, o * outLen * inner + i, inner);
  }
}

/** True when value a (at index ia) ranks before b (at ib): larger first for `largest`, NaN as the largest. */
export function ranksBefore(
  a: number,
  ia: number,
  b: number,
  ib: number,
  largest: boolean,
): boolean {
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  if (na !== nb) return largest ? na : nb;
  if (!na && a !== b) return largest ? a > b : a < b;
  return ia < ib;
}

registerKernel<CpuBackend, { axis: number; k: number; largest: boolean }>(
  'topk',
  'cpu',
  (_b, [x], [values, indices], { axis, k, largest }) => {
    const vals = valuesOf(x!);
    const vout = dataOf(values!.handle);
    const iout = dataOf(indices!.handle);
    const len = x!.shape[axis]!;
    forEachLine(x!.shape, axis, k, (_line, inBase, outBase, inner) => {
      const order = Array.from({ length: len }, (_, j) => j);
      const at = (j: number): number => vals[inBase + j * inner]!;
      order.sort((p, q) => (ranksBefore(at(p), p, at(q), q, largest) ? -1 : 1));
      for (let j = 0; j < k; j++) {
        vout[outBase + j * inner] = at(order[j]!);
        iout[outBase + j * inner] = order[j]!;
      }
    });
  },
);

registerKernel<CpuBackend, { axis: number; reverse: boolean }>(
  'cumsum',
  'cpu',
  (_b, [x], [out], { axis, reverse }) => {
    const vals = valuesOf(x!);
    const data = dataOf(out!.handle);
    const len = x!.shape[axis]!;
    forEachLine(x!.shape, axis, len, (_line, inBase, outBase, inner) => {
      let acc = 0;
      for (let s = 0; s < len; s++) {
        const j = reverse ? len - 1 - s : s;
        acc += vals[inBase + j * inner]!;
        data[outBase + j * inner] = acc;
      }
    });
  },
);
