/** Top-k selection and cumulative sums along an axis, with their gradients. */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './creation.js';

/** Options of {@link topk}. */
export interface TopkOptions {
  /** The axis to select along (default -1, the last). */
  axis?: number;
  /** Select the largest values (default) or the smallest. */
  largest?: boolean;
}

/** What {@link topk} returns. */
export interface TopkResult {
  /** The selected values, best first, with x's shape except `k` along the axis. */
  values: Tensor;
  /** Their positions along the axis (i32), same shape as `values`. */
  indices: Tensor;
}

/**
 * The `k` largest (or smallest) entries of `x` along an axis and their indices,
 * sorted best first. Equal values are ordered by smaller index; NaN ranks above
 * every number (first for largest, last for smallest); -0 equals +0. Rows of any
 * length are supported (vocabulary-sized logits included). The gradient of
 * `values` goes to the selected positions of x.
 */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): TopkResult {
  const device = commonDevice('topk', [x], ['x']);
  if (x.rank === 0) throw new RangeError('topk: x is a scalar (shape []); expected rank >= 1');
  const axis = normalizeAxis('topk', options.axis ?? -1, x.rank);
  const largest = options.largest ?? true;
  if (x.dtype === 'bool')
    throw new TypeError('topk: x has dtype bool; expected a float or integer dtype');
  const len = x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > len)
    throw new RangeError(
      `topk: k is ${k}; expected an integer in [0, ${len}] (dim ${axis} of x's shape ${fmt(x.shape)})`,
    );
  const shape = [...x.shape];
  shape[axis] = k;
  const [values, indices] = execute(
    'topk',
    device,
    [x],
    [
      { shape, dtype: x.dtype },
      { shape, dtype: 'i32' },
    ],
    { axis, k, largest },
  );
  if (needsGrad(x)) {
    const from = x.shape;
    record('topk', [x], [values!], [indices!], ([g], [idx]) => {
      const base = zeros(from, { device, dtype: g!.dtype });
      const [dx] = execute(
        'scatter_add',
        device,
        [base, idx!, g!],
        [{ shape: from, dtype: g!.dtype }],
        {
          axis,
        },
      );
      base.dispose();
      return [dx!];
    });
  }
  return { values: values!, indices: indices! };
}

/** Options of {@link cumsum}. */
export interface CumsumOptions {
  /** Sum from the end of the axis towards its start. */
  reverse?: boolean;
}

/**
 * Inclusive cumulative sum along `axis`: `out[i] = x[0] + … + x[i]` (with
 * `reverse`, `x[i] + … + x[n-1]`). Floats keep their dtype; i32 and bool sum in
 * i32, u32 in u32 (wrapping). The gradient is the cumulative sum of the output
 * gradient in the opposite direction.
 */
export function cumsum(x: Tensor, axis: number, options: CumsumOptions = {}): Tensor {
  const device = commonDevice('cumsum', [x], ['x']);
  if (x.rank === 0) throw new RangeError('cumsum: x is a scalar (shape []); expected rank >= 1');
  const a = normalizeAxis('cumsum', axis, x.rank);
  const reverse = options.reverse ?? false;
  const dtype = isFloat(x.dtype) || x.dtype === 'u32' ? x.dtype : 'i32';
  const [out] = execute('cumsum', device, [x], [{ shape: x.shape, dtype }], { axis: a, reverse });
  if (needsGrad(x)) {
    record('cumsum', [x], [out!], [], ([g]) => [cumsum(g!, a, { reverse: !reverse })]);
  }
  return out!;
}
