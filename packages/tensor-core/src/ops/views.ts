/**
 * Layout ops. Reshape (of contiguous data), permute/transpose, expand,
 * squeeze/unsqueeze and slice return views that share storage; `contiguous()`
 * copies when the layout needs it.
 */
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { assertShape, contiguousStrides, fmt, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sumToShape } from './reduce.js';

/** A row-major copy of `x` (a new handle on the same storage when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  const device = commonDevice('contiguous', [x], ['x']);
  if (x.isContiguous) {
    const v = x.view(x.shape, x.strides, x.offset);
    if (needsGrad(x)) record('contiguous', [x], [v], [], ([g]) => [g!.share()]);
    return v;
  }
  const [y] = execute('copy', device, [x], [{ shape: x.shape, dtype: x.dtype }], {});
  if (needsGrad(x)) record('contiguous', [x], [y!], [], ([g]) => [g!.share()]);
  return y!;
}

/** The same values with another shape; one dim may be -1. Copies only when x is not contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  commonDevice('reshape', [x], ['x']);
  const known = shape.filter((d) => d !== -1);
  if (
    shape.filter((d) => d === -1).length > 1 ||
    !known.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new RangeError(
      `reshape: shape ${fmt(shape)} must hold non-negative integers and at most one -1`,
    );
  }
  const knownSize = sizeOf(known);
  const resolved = shape.map((d) => (d === -1 ? (knownSize === 0 ? 0 : x.size / knownSize) : d));
  if (sizeOf(resolved) !== x.size || !resolved.every(Number.isInteger)) {
    throw new RangeError(
      `reshape: cannot view ${x.size} elements of shape ${fmt(x.shape)} as ${fmt(shape)}`,
    );
  }
  const src = x.isContiguous ? x : contiguous(x);
  const out = src.view(resolved, contiguousStrides(resolved), src.offset);
  if (src !== x) src.dispose();
  if (needsGrad(x)) {
    const from = x.shape;
    record('reshape', [x], [out], [], ([g]) => [reshape(g!, from)]);
  }
  return out;
}

/** Reorders dims: `permute(x, [0, 2, 1])`. A view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  commonDevice('permute', [x], ['x']);
  const norm = dims.map((d) => normalizeAxis('permute', d, x.rank, 'dims'));
  if (norm.length !== x.rank || new Set(norm).size !== x.rank) {
    throw new RangeError(
      `permute: dims [${dims.join(',')}] must be a permutation of the ${x.rank} dims of shape ${fmt(x.shape)}`,
    );
  }
  const out = x.view(
    norm.map((d) => x.shape[d]!),
    norm.map((d) => x.strides[d]!),
    x.offset,
  );
  if (needsGrad(x)) {
    const inverse = new Array<number>(norm.length);
    norm.forEach((d, i) => (inverse[d] = i));
    record('permute', [x], [out], [], ([g]) => [permute(g!, inverse)]);
  }
  return out;
}

/** Swaps two dims (the last two by default). A view. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeAxis('transpose', dim0, x.rank, 'dim0');
  const b = normalizeAxis('transpose', dim1, x.rank, 'dim1');
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts size-1 dims (and new leading dims) to `shape` without copying; -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  commonDevice('expand', [x], ['x']);
  const lead = shape.length - x.rank;
  if (lead < 0)
    throw new RangeError(`expand: shape ${fmt(shape)} has fewer dims than x's ${fmt(x.shape)}`);
  const resolved = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  assertShape('expand', 'shape', resolved);
  const strides = resolved.map((d, i) => {
    if (i < lead) return 0;
    const have = x.shape[i - lead]!;
    if (have === d) return x.strides[i - lead]!;
    if (have === 1) return 0;
    throw new RangeError(
      `expand: dim ${i} of x has size ${have}; it can only expand from 1 (x ${fmt(x.shape)} to ${fmt(shape)})`,
    );
  });
  const out = x.view(resolved, strides, x.offset);
  if (needsGrad(x)) {
    const from = x.shape;
    record('expand', [x], [out], [], ([g]) => [sumToShape(g!, from)]);
  }
  return out;
}

/** Removes size-1 dims (all of them, or the given one). A view. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1)
    throw new RangeError(
      `squeeze: axis ${axis} of shape ${fmt(x.shape)} has size ${x.shape[a]}; expected 1`,
    );
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

/** Inserts a size-1 dim at `axis`. A view. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Collapses dims `start..end` (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', start, x.rank, 'start');
  const e = normalizeAxis('flatten', end, x.rank, 'end');
  if (e < s) throw new RangeError(`flatten: end ${end} comes before start ${start}`);
  return reshape(x, [
    ...x.shape.slice(0, s),
    sizeOf(x.shape.slice(s, e + 1)),
    ...x.shape.slice(e + 1),
  ]);
}

/** One axis's range: elements start, start+step, … below end (negative indices count from the end). */
export interface SliceRange {
  start?: number;
  end?: number;
  step?: number;
}

/**
 * A strided view: one range per leading axis (missing ranges take everything),
 * like `x[a:b:s, c:d]` in NumPy. Steps must be positive.
 */
export function slice(x: Tensor, ranges: readonly (SliceRange | undefined)[]): Tensor {
  const device = commonDevice('slice', [x], ['x']);
  if (ranges.length > x.rank)
    throw new RangeError(`slice: ${ranges.length} ranges for a tensor of rank ${x.rank}`);
  const starts: number[] = [];
  const steps: number[] = [];
  const shape: number[] = [];
  x.shape.forEach((dim, i) => {
    const r = ranges[i] ?? {};
    const step = r.step ?? 1;
    if (!Number.isInteger(step) || step <= 0)
      throw new RangeError(`slice: step ${step} on axis ${i} must be a positive integer`);
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clamp(r.start ?? 0);
    const end = clamp(r.end ?? dim);
    starts.push(start);
    steps.push(step);
    shape.push(Math.max(0, Math.ceil((end - start) / step)));
  });
  const offset = x.offset + starts.reduce((o, s, i) => o + s * x.strides[i]!, 0);
  const out = x.view(
    shape,
    x.strides.map((s, i) => s * steps[i]!),
    offset,
  );
  if (needsGrad(x)) {
    const from = x.shape;
    record('slice', [x], [out], [], ([g]) => [
      execute('slice_grad', device, [g!], [{ shape: from, dtype: g!.dtype }], {
        starts,
        steps,
      })[0]!,
    ]);
  }
  return out;
}

/** A tensor with the same values that autograd does not track (shares storage). */
export function detach(x: Tensor): Tensor {
  commonDevice('detach', [x], ['x']);
  return x.view(x.shape, x.strides, x.offset);
}
