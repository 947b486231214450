/**
 * Reductions beyond sum/mean/max/min: a stable log-sum-exp, the variance with
 * Bessel's correction (single-pass, Welford/Chan on WebGPU), and argmax/argmin
 * returning the first index of the extreme as i32.
 */
import { type DType, isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, normalizeAxes, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { exp, mul, sub } from './elementwise.js';
import { mean, type ReduceOptions } from './reduce.js';
import { reshape } from './views.js';

/** Options of {@link variance}: the axes, keepdim, and the correction subtracted from the count. */
export interface VarianceOptions extends ReduceOptions {
  /** Divide by `N − correction` (default 1, Bessel's correction, as `torch.var`). */
  correction?: number;
}

/** Options of {@link argmax} and {@link argmin}: one axis (all elements, flattened, when omitted). */
export interface ArgReduceOptions {
  /** The axis to search (negative counts from the end); omitted: the flattened tensor. */
  axis?: number;
  /** Keep the reduced axis (axes, when flattened) as size-1 dims. */
  keepdim?: boolean;
}

/** Attributes of the reduce-extra kernels. `correction` is read by `variance` only. */
export interface ReduceExtraAttrs {
  /** Axes to reduce, sorted and distinct. */
  axes: number[];
  /** Subtracted from the count by `variance`. */
  correction: number;
}

interface Reduced {
  out: Tensor;
  axes: number[];
  /** x's shape with reduced axes set to 1 (the shape that broadcasts back against x). */
  keptShape: number[];
}

function run(
  kernel: string,
  x: Tensor,
  axes: number[],
  keepdim: boolean,
  dtype: DType,
  correction = 0,
): Reduced {
  const device = x.device;
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduced = x.shape.filter((_, i) => !axes.includes(i));
  const [flat] = execute<ReduceExtraAttrs>(kernel, device, [x], [{ shape: reduced, dtype }], {
    axes,
    correction,
  });
  if (!keepdim || keptShape.length === reduced.length) return { out: flat!, axes, keptShape };
  const out = reshape(flat!, keptShape);
  flat!.dispose();
  return { out, axes, keptShape };
}

const floatResult = (dtype: DType): DType => (isFloat(dtype) ? dtype : 'f32');

/**
 * `log Σ exp(x)` over `axis` (all axes when omitted), computed as `m + log Σ exp(x − m)` with m
 * the maximum, so it neither overflows nor underflows. Integers give f32; an empty reduction
 * gives −∞. Backward: `g·softmax(x)` over the reduced axes.
 */
export function logsumexp(x: Tensor, options: ReduceOptions = {}): Tensor {
  commonDevice('logsumexp', [x], ['x']);
  const axes = normalizeAxes('logsumexp', options.axis, x.rank);
  const { out, keptShape } = run(
    'logsumexp',
    x,
    axes,
    options.keepdim ?? false,
    floatResult(x.dtype),
  );
  if (needsGrad(x)) {
    record('logsumexp', [x], [out], [x, out], ([g], [sx, so]) => {
      const lse = reshape(so!, keptShape);
      const gk = reshape(g!, keptShape);
      const shifted = sub(sx!, lse);
      const p = exp(shifted);
      const r = mul(p, gk);
      for (const t of [lse, gk, shifted, p]) t.dispose();
      return [r];
    });
  }
  return out;
}

/**
 * Variance over `axis` (all axes when omitted): `Σ (x − mean)² / (N − correction)` with
 * `correction` 1 by default (unbiased, as `torch.var`); 0 gives the population variance.
 * Where `N − correction ≤ 0` the result is NaN (or +∞ for a non-constant input), as in PyTorch.
 * Integers give f32. Backward: `2 (x − mean) / (N − correction) · g`.
 */
export function variance(x: Tensor, options: VarianceOptions = {}): Tensor {
  commonDevice('variance', [x], ['x']);
  const correction = options.correction ?? 1;
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new RangeError(
      `variance: correction is ${String(correction)}; expected a finite number ≥ 0`,
    );
  }
  const axes = normalizeAxes('variance', options.axis, x.rank);
  const { out, keptShape } = run(
    'variance',
    x,
    axes,
    options.keepdim ?? false,
    floatResult(x.dtype),
    correction,
  );
  if (needsGrad(x)) {
    const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
    record('variance', [x], [out], [x], ([g], [sx]) => {
      const mu = mean(sx!, { axis: axes, keepdim: true });
      const centred = sub(sx!, mu);
      const gk = reshape(g!, keptShape);
      const scaled = mul(centred, 2 / (count - correction));
      const r = mul(scaled, gk);
      for (const t of [mu, centred, gk, scaled]) t.dispose();
      return [r];
    });
  }
  return out;
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, options: ArgReduceOptions): Tensor {
  commonDevice(op, [x], ['x']);
  const axis = options.axis;
  if (axis !== undefined && typeof axis !== 'number') {
    throw new TypeError(
      `${op}: axis must be one integer or omitted (all elements, flattened); got ${JSON.stringify(axis)}`,
    );
  }
  const axes =
    axis === undefined ? x.shape.map((_, i) => i) : [normalizeAxis(op, axis, Math.max(x.rank, 1))];
  if (x.rank === 0) axes.length = 0;
  if (axes.some((a) => x.shape[a] === 0) || (axis === undefined && x.size === 0)) {
    throw new RangeError(`${op}: cannot reduce over an empty axis of shape ${fmt(x.shape)}`);
  }
  return run(op, x, axes, options.keepdim ?? false, 'i32').out;
}

/**
 * Index of the largest element along `axis` (of the flattened tensor when `axis` is omitted), as
 * i32. Ties give the first index, and NaN counts as the largest value, as in `torch.argmax`.
 * Not differentiable.
 */
export function argmax(x: Tensor, options: ArgReduceOptions = {}): Tensor {
  return argExtreme('argmax', x, options);
}

/**
 * Index of the smallest element along `axis` (of the flattened tensor when `axis` is omitted), as
 * i32. Ties give the first index, and NaN counts as the smallest value, as in `torch.argmin`.
 * Not differentiable.
 */
export function argmin(x: Tensor, options: ArgReduceOptions = {}): Tensor {
  return argExtreme('argmin', x, options);
}
