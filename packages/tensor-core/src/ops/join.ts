/** Joining and splitting along an axis: concat, stack, split, and constant padding. */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, normalizeAxis, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { contiguous, slice, type SliceRange, unsqueeze } from './views.js';

/** A contiguous copy of `g`'s range [start, start + length) along `axis`. */
function sliceCopy(g: Tensor, axis: number, start: number, length: number): Tensor {
  const ranges: SliceRange[] = g.shape.map(() => ({}));
  ranges[axis] = { start, end: start + length };
  const view = slice(g, ranges);
  const out = contiguous(view);
  view.dispose();
  return out;
}

function tensorList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new RangeError(
      `${op}: tensors must be a non-empty array of tensors; got ${tensors?.length ?? typeof tensors} entries`,
    );
}

/**
 * Joins tensors along an existing `axis`. All must share dtype, rank (≥ 1) and
 * every other dim. The gradient of each input is its slice of the output gradient.
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  tensorList('concat', tensors);
  const device = commonDevice(
    'concat',
    tensors,
    tensors.map((_, i) => `tensors[${i}]`),
  );
  const first = tensors[0]!;
  if (first.rank === 0)
    throw new RangeError('concat: tensors[0] is a scalar (shape []); expected rank >= 1');
  const a = normalizeAxis('concat', axis, first.rank);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype)
      throw new TypeError(
        `concat: tensors[${i}] has dtype ${t.dtype}; expected ${first.dtype} like tensors[0]`,
      );
    if (t.rank !== first.rank || t.shape.some((d, j) => j !== a && d !== first.shape[j]))
      throw new RangeError(
        `concat: tensors[${i}] has shape ${fmt(t.shape)}; expected [${first.shape.map((d, j) => (j === a ? '*' : d)).join(',')}] (tensors[0]'s shape except along axis ${a})`,
      );
  });
  const sizes = tensors.map((t) => t.shape[a]!);
  const shape = [...first.shape];
  shape[a] = sizes.reduce((s, d) => s + d, 0);
  const [out] = execute('concat', device, tensors, [{ shape, dtype: first.dtype }], { axis: a });
  if (needsGrad(...tensors)) {
    const need = tensors.map((t) => t.requiresGrad);
    record('concat', tensors, [out!], [], ([g]) => {
      let start = 0;
      return sizes.map((size, i) => {
        const s = start;
        start += size;
        return need[i] ? sliceCopy(g!, a, s, size) : null;
      });
    });
  }
  return out!;
}

/**
 * Joins tensors of one shape along a new `axis` (0 ≤ axis ≤ rank, negative counts
 * from the end of the result's dims).
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  tensorList('stack', tensors);
  commonDevice(
    'stack',
    tensors,
    tensors.map((_, i) => `tensors[${i}]`),
  );
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape))
      throw new RangeError(
        `stack: tensors[${i}] has shape ${fmt(t.shape)}; expected ${fmt(first.shape)} like tensors[0]`,
      );
  });
  const a = normalizeAxis('stack', axis, first.rank + 1);
  const parts = tensors.map((t) => unsqueeze(t, a));
  const out = concat(parts, a);
  for (const p of parts) p.dispose();
  return out;
}

/**
 * Splits `x` along `axis` into views: `sizes` is either a chunk length (the last
 * chunk may be shorter, as `torch.split`) or the list of lengths, which must sum
 * to the dim. The pieces share x's storage. Autograd records one node for all
 * pieces; pieces that get no gradient contribute zeros.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const device = commonDevice('split', [x], ['x']);
  if (x.rank === 0) throw new RangeError('split: x is a scalar (shape []); expected rank >= 1');
  const a = normalizeAxis('split', axis, x.rank);
  const dim = x.shape[a]!;
  let lengths: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0)
      throw new RangeError(`split: sizes ${sizes} must be a positive integer chunk length`);
    lengths = [];
    for (let s = 0; s < dim; s += sizes) lengths.push(Math.min(sizes, dim - s));
    if (dim === 0) lengths.push(0);
  } else {
    lengths = [...sizes];
    const total = lengths.reduce((s, d) => s + d, 0);
    if (!lengths.every((d) => Number.isInteger(d) && d >= 0) || total !== dim)
      throw new RangeError(
        `split: sizes [${lengths.join(',')}] must be non-negative integers summing to ${dim} (dim ${a} of x's shape ${fmt(x.shape)})`,
      );
  }
  let start = 0;
  const pieces = lengths.map((len) => {
    const shape = [...x.shape];
    shape[a] = len;
    const piece = x.view(shape, x.strides, x.offset + start * x.strides[a]!);
    start += len;
    return piece;
  });
  if (needsGrad(x) && pieces.length > 0) {
    const dtype = x.dtype;
    const shapes = pieces.map((p) => p.shape);
    record('split', [x], pieces, [], (grads) => {
      const made: Tensor[] = [];
      const parts = grads.map((g, i) => {
        if (g) return g;
        const z = zeros(shapes[i]!, { device, dtype });
        made.push(z);
        return z;
      });
      const dx = concat(parts, a);
      for (const z of made) z.dispose();
      return [dx];
    });
  }
  return pieces;
}

/**
 * Pads with a constant. `pads` lists `[before, after]` counts (non-negative
 * integers) for the trailing `pads.length` dims in order, so for a [N, H, W]
 * tensor `[[1, 1], [2, 2]]` pads H by 1 and W by 2 on each side; give one pair
 * per dim to pad them all. The gradient is the matching slice of the output gradient.
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const device = commonDevice('pad', [x], ['x']);
  if (!Array.isArray(pads) || pads.length > x.rank)
    throw new RangeError(
      `pad: pads has ${pads?.length} pairs; expected at most ${x.rank} (x's rank, shape ${fmt(x.shape)})`,
    );
  const lead = x.rank - pads.length;
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  pads.forEach((pair, i) => {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      !pair.every((v) => Number.isInteger(v) && v >= 0)
    )
      throw new RangeError(
        `pad: pads[${i}] is ${JSON.stringify(pair)}; expected [before, after] non-negative integers`,
      );
    before[lead + i] = pair[0];
    after[lead + i] = pair[1];
  });
  if (typeof value !== 'number')
    throw new TypeError(`pad: value must be a number; got ${typeof value}`);
  if (!isFloat(x.dtype) && x.dtype !== 'bool' && !Number.isInteger(value))
    throw new TypeError(`pad: value ${value} is not an integer; x has dtype ${x.dtype}`);
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  const [out] = execute('pad', device, [x], [{ shape, dtype: x.dtype }], { before, value });
  if (needsGrad(x)) {
    const from = x.shape;
    record('pad', [x], [out!], [], ([g]) => {
      const view = slice(
        g!,
        from.map((d, i) => ({ start: before[i]!, end: before[i]! + d })),
      );
      const dx = contiguous(view);
      view.dispose();
      return [dx];
    });
  }
  return out!;
}
