/**
 * Softmax and log-softmax along one axis: fused, max-subtracted kernels, with
 * backward rules in closed form that run as fused kernels too (backward is
 * bound by memory traffic, so one pass per row beats a chain of elementwise ops).
 */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Attributes of the softmax kernels: the (non-negative) axis the rows run along. */
export interface SoftmaxAttrs {
  axis: number;
}

function validate(op: string, x: Tensor, axis: number): number {
  commonDevice(op, [x], ['x']);
  if (!isFloat(x.dtype))
    throw new TypeError(`${op}: x has dtype ${x.dtype}; expected f32, f16 or bf16`);
  // A scalar is one row of length 1 (as in PyTorch, axis 0 and -1 both name it).
  return normalizeAxis(op, axis, Math.max(x.rank, 1));
}

function rowOp(op: 'softmax' | 'log_softmax', x: Tensor, axis: number): Tensor {
  const a = validate(op === 'softmax' ? 'softmax' : 'logSoftmax', x, axis);
  const [y] = execute<SoftmaxAttrs>(op, x.device, [x], [{ shape: x.shape, dtype: x.dtype }], {
    axis: a,
  });
  if (needsGrad(x)) {
    record(op, [x], [y!], [y!], ([g], [sy]) => [
      execute<SoftmaxAttrs>(
        `${op}_grad`,
        sy!.device,
        [sy!, g!],
        [{ shape: sy!.shape, dtype: sy!.dtype }],
        { axis: a },
      )[0]!,
    ]);
  }
  return y!;
}

/**
 * `exp(x) / Σ exp(x)` along `axis` (default the last), computed as `exp(x − max)` so large
 * inputs do not overflow. Backward: `y·(g − Σ g·y)`.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return rowOp('softmax', x, axis);
}

/**
 * `x − log Σ exp(x)` along `axis` (default the last), max-subtracted for stability.
 * Backward: `g − softmax(x)·Σ g`.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return rowOp('log_softmax', x, axis);
}
