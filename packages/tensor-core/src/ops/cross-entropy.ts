/**
 * Fused softmax cross-entropy with ignore index and label smoothing
 * (PyTorch's `torch.nn.functional.cross_entropy` over class indices).
 *
 * Kernel contracts (shared by every backend; logits and targets are contiguous,
 * logits read as [N, C] by the last dim, targets as [N]):
 * - `cross_entropy`: inputs [logits, targets], attrs {@link CrossEntropyAttrs}; outputs
 *   [loss, lse [N, 2] f32] for reduction 'none' (loss [N]) and [loss [], lse [N, 2] f32,
 *   count [] f32] for 'mean' and 'sum' (count: rows whose target is not ignored). One pass
 *   over each row gives its logsumexp and its loss; the logsumexp is saved as the pair
 *   (row max m, log Σexp(x − m)), so that x − lse = (x − m) − log Σ keeps f32 precision
 *   for large logits.
 * - `cross_entropy_grad`: inputs [logits, targets, lse, g, count (mean only)], same attrs;
 *   outputs [dlogits] = (softmax − smoothed one-hot)·g_row, the softmax recomputed from
 *   the logits and the saved logsumexp in the same pass.
 */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record, type OutputSpec } from '../execute.js';
import { fmt, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** How per-row losses combine. */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Rows whose target equals this contribute nothing and are not counted (default -100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target distribution is (1−ε)·one-hot + ε/C (default 0). */
  labelSmoothing?: number;
  /** 'mean' over non-ignored rows (default), 'sum', or 'none' (one loss per row). */
  reduction?: CrossEntropyReduction;
}

/** Attributes of the `cross_entropy` and `cross_entropy_grad` kernels. */
export interface CrossEntropyAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: CrossEntropyReduction;
}

function denseOf(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  return execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

function validate(
  logits: unknown,
  targets: unknown,
  options: CrossEntropyOptions,
): CrossEntropyAttrs {
  const op = 'crossEntropy';
  if (!(logits instanceof Tensor))
    throw new TypeError(`${op}: logits must be a Tensor; got ${typeof logits}`);
  if (!(targets instanceof Tensor))
    throw new TypeError(`${op}: targets must be a Tensor; got ${typeof targets}`);
  if (!isFloat(logits.dtype))
    throw new TypeError(
      `${op}: logits has dtype ${logits.dtype}; expected a float dtype (f32, f16, bf16)`,
    );
  if (logits.rank < 1)
    throw new RangeError(`${op}: logits has shape ${fmt(logits.shape)}; expected [..., C]`);
  const C = logits.shape[logits.rank - 1]!;
  if (C < 1)
    throw new RangeError(
      `${op}: logits has shape ${fmt(logits.shape)}; expected at least one class in the last dim`,
    );
  if (targets.dtype !== 'i32')
    throw new TypeError(`${op}: targets has dtype ${targets.dtype}; expected i32 class indices`);
  const want = logits.shape.slice(0, -1);
  if (!sameShape(targets.shape, want))
    throw new RangeError(
      `${op}: targets has shape ${fmt(targets.shape)}; expected ${fmt(want)} (logits' shape without its last dim)`,
    );
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31)
    throw new RangeError(`${op}: ignoreIndex is ${ignoreIndex}; expected a 32-bit integer`);
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new RangeError(
      `${op}: labelSmoothing is ${String(labelSmoothing)}; expected a number in [0, 1]`,
    );
  const reduction = options.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction))
    throw new RangeError(
      `${op}: reduction is ${String(reduction)}; expected 'mean', 'sum' or 'none'`,
    );
  commonDevice(op, [logits, targets], ['logits', 'targets']);
  return { ignoreIndex, labelSmoothing, reduction };
}

/**
 * Softmax cross-entropy between `logits` [..., C] and class indices `targets` [...]
 * (i32), fused: one kernel pass per row computes its logsumexp and loss, and the
 * backward recomputes the softmax from the logits and the saved logsumexp.
 *
 * Semantics are `torch.nn.functional.cross_entropy`'s: the row loss is
 * `(1−ε)·(lse − x_t) + ε·mean_c(lse − x_c)`; rows whose target is `ignoreIndex`
 * give 0 and are not counted, so 'mean' divides by the number of other rows (NaN
 * when every row is ignored, as in PyTorch). A target outside [0, C) that is not
 * `ignoreIndex` is not checked on the host (that would need a readback): its row
 * loss, and hence a 'mean' or 'sum', is NaN, and so is its row's gradient.
 *
 * @param logits - Unnormalised scores, any float dtype, shape [..., C] with C ≥ 1.
 * @param targets - i32 class indices with logits' shape minus the last dim.
 * @param options - `ignoreIndex` (default -100), `labelSmoothing` (default 0),
 *   `reduction` (default 'mean').
 * @returns A scalar for 'mean' and 'sum', else the per-row losses with targets' shape;
 *   logits' dtype.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const attrs = validate(logits, targets, options);
  const device = logits.device;
  const N = sizeOf(targets.shape);
  const ls = denseOf(logits);
  const ts = denseOf(targets);
  const outs: OutputSpec[] =
    attrs.reduction === 'none'
      ? [
          { shape: targets.shape, dtype: logits.dtype },
          { shape: [N, 2], dtype: 'f32' },
        ]
      : [
          { shape: [], dtype: logits.dtype },
          { shape: [N, 2], dtype: 'f32' },
          { shape: [], dtype: 'f32' },
        ];
  const [loss, ...stats] = execute('cross_entropy', device, [ls, ts], outs, attrs);
  if (needsGrad(logits)) {
    record('crossEntropy', [logits, null], [loss!], [ls, ts, ...stats], ([g], s) => {
      const [sl, st, lse, count] = s;
      const gd = denseOf(g!);
      const [dlogits] = execute(
        'cross_entropy_grad',
        device,
        [sl!, st!, lse!, gd, ...(attrs.reduction === 'mean' ? [count!] : [])],
        [{ shape: sl!.shape, dtype: sl!.dtype }],
        attrs,
      );
      if (gd !== g) gd.dispose();
      return [dlogits!, null];
    });
  }
  for (const t of stats) t.dispose();
  if (ls !== logits) ls.dispose();
  if (ts !== targets) ts.dispose();
  return loss!;
}
