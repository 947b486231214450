/** Reductions over any set of axes (sum, mean, max, min, prod) and folding broadcast gradients. */
import { type DType, isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, normalizeAxes, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, eq, mul, where } from './elementwise.js';
import { full } from './creation.js';
import { expand, reshape } from './views.js';

/** Which axes to reduce and whether to keep them as size-1 dims. */
export interface ReduceOptions {
  /** An axis or axes (negative counts from the end); all axes when omitted. */
  axis?: number | readonly number[];
  keepdim?: boolean;
}

function outShapes(
  x: Tensor,
  axes: number[],
  keepdim: boolean,
): { reduced: number[]; kept: number[] } {
  const reduced = x.shape.filter((_, i) => !axes.includes(i));
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return { reduced, kept: keepdim ? kept : reduced };
}

function reduceDtype(op: string, dtype: DType): DType {
  if (op === 'mean') return isFloat(dtype) ? dtype : 'f32';
  if ((op === 'sum' || op === 'prod') && !isFloat(dtype)) return dtype === 'u32' ? 'u32' : 'i32';
  return dtype === 'bool' ? 'i32' : dtype;
}

function reduce(
  op: string,
  x: Tensor,
  options: ReduceOptions,
): { out: Tensor; axes: number[]; keptShape: number[] } {
  const device = commonDevice(op, [x], ['x']);
  const axes = normalizeAxes(op, options.axis, x.rank);
  const { reduced, kept } = outShapes(x, axes, options.keepdim ?? false);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new RangeError(`${op}: cannot reduce over an empty axis of shape ${fmt(x.shape)}`);
  }
  // Size-1 axes change nothing: leave them out of the kernel's work.
  const work = axes.filter((a) => x.shape[a] !== 1);
  const [flat] = execute(op, device, [x], [{ shape: reduced, dtype: reduceDtype(op, x.dtype) }], {
    axes: work,
  });
  if (kept.length === reduced.length)
    return { out: flat!, axes, keptShape: x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) };
  const out = reshape(flat!, kept);
  flat!.dispose();
  return { out, axes, keptShape: x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) };
}

/** Broadcasts a reduced gradient back over the reduced axes. */
function spread(g: Tensor, keptShape: number[], shape: Shape): Tensor {
  const r = reshape(g, keptShape);
  const e = expand(r, shape);
  r.dispose();
  return e;
}

/** Sum over axes. Integers sum in i32 (u32 for u32). */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  const { out, keptShape } = reduce('sum', x, options);
  if (needsGrad(x)) record('sum', [x], [out], [], ([g]) => [spread(g!, keptShape, x.shape)]);
  return out;
}

/** Mean over axes (integers give f32). */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  const { out, axes, keptShape } = reduce('mean', x, options);
  if (needsGrad(x)) {
    const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
    const shape = x.shape;
    record('mean', [x], [out], [], ([g]) => {
      const s = spread(g!, keptShape, shape);
      const r = div(s, count);
      s.dispose();
      return [r];
    });
  }
  return out;
}

/** Product over axes. */
export function prod(x: Tensor, options: ReduceOptions = {}): Tensor {
  const { out, keptShape } = reduce('prod', x, options);
  if (needsGrad(x)) {
    // d/dx_i Π = Π / x_i (exact where no x is zero, which covers training use).
    record('prod', [x], [out], [x, out], ([g], [sx, so]) => {
      const gs = spread(g!, keptShape, sx!.shape);
      const ps = spread(so!, keptShape, sx!.shape);
      const q = div(ps, sx!);
      const r = mul(gs, q);
      for (const t of [gs, ps, q]) t.dispose();
      return [r];
    });
  }
  return out;
}

function extreme(op: 'max' | 'min', x: Tensor, options: ReduceOptions): Tensor {
  const { out, keptShape } = reduce(op, x, options);
  if (needsGrad(x)) {
    // The gradient is shared equally among tied extremes (as torch.amax does).
    record(op, [x], [out], [x, out], ([g], [sx, so]) => {
      const ext = spread(so!, keptShape, sx!.shape);
      const hit = eq(sx!, ext);
      const zero = full([], 0, { device: sx!.device, dtype: g!.dtype });
      const ones = full([], 1, { device: sx!.device, dtype: g!.dtype });
      const mask = where(hit, ones, zero);
      const count = sum(mask, {
        axis: keptShape
          .map((d, i) => (d === 1 && sx!.shape[i] !== 1 ? i : -1))
          .filter((i) => i >= 0),
        keepdim: true,
      });
      const gs = spread(g!, keptShape, sx!.shape);
      const share = div(gs, count);
      const r = mul(share, mask);
      for (const t of [ext, hit, zero, ones, mask, count, gs, share]) t.dispose();
      return [r];
    });
  }
  return out;
}

/** Maximum over axes (values only; see `argmax` for indices). */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme('max', x, options);
}

/** Minimum over axes. */
export function min(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme('min', x, options);
}

/** Sums `g` down to `shape` (the inverse of broadcasting `shape` up to g's shape). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  if (lead < 0)
    throw new RangeError(
      `sumToShape: cannot reduce shape ${fmt(g.shape)} to the larger rank of ${fmt(shape)}`,
    );
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return reshape(g, shape);
  const s = sum(g, { axis: axes, keepdim: true });
  const r = reshape(s, shape);
  s.dispose();
  return r;
}
