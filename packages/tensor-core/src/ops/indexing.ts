/**
 * Indexing ops: embedding lookup, index-select, gather and scatter-add, with
 * their gradients.
 *
 * Out-of-range indices (negative, or ≥ the size of the indexed dim) never fail,
 * because checking them would need a readback: on every backend a read at such an
 * index gives 0 and a scatter to it is dropped. The gradients agree (nothing
 * flows to or from such positions).
 */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, normalizeAxis, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { reshape } from './views.js';

function assertIndexDtype(op: string, name: string, index: Tensor): void {
  if (index.dtype !== 'i32')
    throw new TypeError(`${op}: ${name} has dtype ${index.dtype}; expected i32`);
}

function assertRanked(op: string, x: Tensor): void {
  if (x.rank === 0) throw new RangeError(`${op}: x is a scalar (shape []); expected rank >= 1`);
}

/**
 * Selects entries of `x` along `axis` at the positions in the 1-D i32 `index`
 * (`torch.index_select`): the result has x's shape with dim `axis` replaced by
 * `index.shape[0]`. Out-of-range positions read 0. The gradient scatter-adds
 * into x's positions, deterministically on every backend.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  const device = commonDevice('indexSelect', [x, index], ['x', 'index']);
  assertRanked('indexSelect', x);
  const a = normalizeAxis('indexSelect', axis, x.rank);
  assertIndexDtype('indexSelect', 'index', index);
  if (index.rank !== 1)
    throw new RangeError(`indexSelect: index has shape ${fmt(index.shape)}; expected a 1-D tensor`);
  const shape = [...x.shape];
  shape[a] = index.shape[0]!;
  const [out] = execute('index_select', device, [x, index], [{ shape, dtype: x.dtype }], {
    axis: a,
  });
  if (needsGrad(x)) {
    const from = x.shape;
    record('indexSelect', [x, index], [out!], [index], ([g], [idx]) => [
      execute('index_select_grad', device, [g!, idx!], [{ shape: from, dtype: g!.dtype }], {
        axis: a,
      })[0]!,
      null,
    ]);
  }
  return out!;
}

/**
 * Looks up rows of `weight` ([vocab, dim]) for the i32 `ids` of any shape: the
 * result has shape `[...ids.shape, dim]`. Ids outside [0, vocab) give zero rows.
 * The gradient sums the output-gradient rows of each id into a [vocab, dim]
 * gradient (on WebGPU by a stable counting sort of the ids, so the sums are
 * deterministic without float atomics).
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  commonDevice('embedding', [weight, ids], ['weight', 'ids']);
  if (weight.rank !== 2)
    throw new RangeError(
      `embedding: weight has shape ${fmt(weight.shape)}; expected 2 dims [vocab, dim]`,
    );
  assertIndexDtype('embedding', 'ids', ids);
  const flat = reshape(ids, [ids.size]);
  const rows = indexSelect(weight, 0, flat);
  const out = reshape(rows, [...ids.shape, weight.shape[1]!]);
  flat.dispose();
  rows.dispose();
  return out;
}

function checkAlongAxis(op: string, x: Tensor, index: Tensor, axis: number): number {
  assertRanked(op, x);
  const a = normalizeAxis(op, axis, x.rank);
  assertIndexDtype(op, 'index', index);
  if (index.rank !== x.rank)
    throw new RangeError(
      `${op}: index has shape ${fmt(index.shape)}; expected rank ${x.rank} like x's ${fmt(x.shape)}`,
    );
  index.shape.forEach((d, i) => {
    if (i !== a && d > x.shape[i]!)
      throw new RangeError(
        `${op}: index has shape ${fmt(index.shape)}; expected its dim ${i} to be at most ${x.shape[i]} (x's shape ${fmt(x.shape)})`,
      );
  });
  return a;
}

/**
 * `torch.gather`: `out[..., i, ...] = x[..., index[..., i, ...], ...]` along
 * `axis`. `index` (i32) has x's rank and, on the other dims, at most x's sizes;
 * the result has index's shape. Out-of-range positions read 0. The gradient is
 * a scatter-add of the output gradient into zeros of x's shape.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const device = commonDevice('gather', [x, index], ['x', 'index']);
  const a = checkAlongAxis('gather', x, index, axis);
  const [out] = execute('gather', device, [x, index], [{ shape: index.shape, dtype: x.dtype }], {
    axis: a,
  });
  if (needsGrad(x)) {
    const from = x.shape;
    record('gather', [x, index], [out!], [index], ([g], [idx]) => {
      const base = zeros(from, { device, dtype: g!.dtype });
      const [dx] = execute(
        'scatter_add',
        device,
        [base, idx!, g!],
        [{ shape: from, dtype: g!.dtype }],
        {
          axis: a,
        },
      );
      base.dispose();
      return [dx!, null];
    });
  }
  return out!;
}

/**
 * `torch.Tensor.scatter_add` (not in place): a copy of `x` with each `src`
 * element added at the position `index` names along `axis`. `index` (i32) and
 * `src` have the same shape (Fathom requires equality where torch allows a larger
 * src), of x's rank and at most x's sizes on the other dims; `src` has x's dtype.
 * Out-of-range positions are dropped. Gradients: x gets g, src gets
 * `gather(g, axis, index)`.
 */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const device = commonDevice('scatterAdd', [x, index, src], ['x', 'index', 'src']);
  const a = checkAlongAxis('scatterAdd', x, index, axis);
  if (!sameShape(src.shape, index.shape))
    throw new RangeError(
      `scatterAdd: src has shape ${fmt(src.shape)}; expected index's shape ${fmt(index.shape)}`,
    );
  if (src.dtype !== x.dtype)
    throw new TypeError(`scatterAdd: src has dtype ${src.dtype}; expected x's dtype ${x.dtype}`);
  if (x.dtype === 'bool')
    throw new TypeError('scatterAdd: x has dtype bool; expected a float or integer dtype');
  const [out] = execute(
    'scatter_add',
    device,
    [x, index, src],
    [{ shape: x.shape, dtype: x.dtype }],
    {
      axis: a,
    },
  );
  if (isFloat(x.dtype) && needsGrad(x, src)) {
    const needX = x.requiresGrad;
    const needSrc = src.requiresGrad;
    record('scatterAdd', [x, index, src], [out!], [index], ([g], [idx]) => [
      needX ? g!.share() : null,
      null,
      needSrc ? gather(g!, a, idx!) : null,
    ]);
  }
  return out!;
}
