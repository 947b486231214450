/** Reference kernels of logsumexp, variance, argmax and argmin, computed in float64. */
import { registerKernel } from '../../registry.js';
import type { CpuBackend } from './cpu-backend.js';
import { reduceKernel } from './reduce-kernels.js';

type Attrs = { axes: number[]; correction: number };

function logsumexp(v: Float64Array): number {
  let m = -Infinity;
  for (const x of v) m = Math.max(m, x);
  // All −∞ (or empty) gives −∞; any +∞ gives +∞; NaN propagates.
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

function variance(v: Float64Array, correction: number): number {
  const n = v.length;
  const mu = v.reduce((a, b) => a + b, 0) / n;
  const m2 = v.reduce((a, b) => a + (b - mu) * (b - mu), 0);
  return m2 / Math.max(0, n - correction);
}

/** Index of the first extreme; NaN beats every number (as torch.argmax/argmin). */
function argExtreme(v: Float64Array, better: (a: number, b: number) => boolean): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) {
    if (Number.isNaN(v[best]!)) break;
    if (Number.isNaN(v[i]!) || better(v[i]!, v[best]!)) best = i;
  }
  return best;
}

registerKernel<CpuBackend, Attrs>('logsumexp', 'cpu', (b, [x], [y], { axes }) =>
  reduceKernel(b, x!, y!, axes, logsumexp),
);
registerKernel<CpuBackend, Attrs>('variance', 'cpu', (b, [x], [y], { axes, correction }) =>
  reduceKernel(b, x!, y!, axes, (v) => variance(v, correction)),
);
registerKernel<CpuBackend, Attrs>('argmax', 'cpu', (b, [x], [y], { axes }) =>
  reduceKernel(b, x!, y!, axes, (v) => argExtreme(v, (a, c) => a > c)),
);
registerKernel<CpuBackend, Attrs>('argmin', 'cpu', (b, [x], [y], { axes }) =>
  reduceKernel(b, x!, y!, axes, (v) => argExtreme(v, (a, c) => a < c)),
);
