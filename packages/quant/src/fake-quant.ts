/**
 * Fake quantisation for quantisation-aware training: the forward pass rounds
 * values to the grid a scheme would store, the backward pass is the
 * straight-through estimator (Bengio et al., 2013): the gradient passes
 * unchanged where the value was inside the grid's range and is zero where it
 * was clipped.
 */
import {
  type Tensor,
  abs,
  add,
  commonDevice,
  contiguous,
  div,
  eq,
  execute,
  floor,
  max,
  maximum,
  min,
  minimum,
  mul,
  needsGrad,
  neg,
  noGrad,
  pad,
  record,
  reshape,
  sub,
  where,
  zerosLike,
} from '@fathom/tensor-core';
import { FAKE_QUANT, type FakeQuantAttrs, registerQuantKernels } from './kernels.js';
import { type QuantScheme, resolveScheme } from './scheme.js';

/** The grid of {@link fakeQuantize}: value = (clamp(round(x / s) + z, qmin, qmax) − z) · s. */
export interface FakeQuantGrid {
  /** f32 scales, index ⌊r / rowBlock⌋ · ⌈cols / groupSize⌉ + ⌊c / groupSize⌋. */
  scales: Tensor;
  /** f32 zero-points, same layout. */
  zeros: Tensor;
  rowBlock: number;
  groupSize: number;
  qmin: number;
  qmax: number;
}

/**
 * Fake-quantises x (f32, rank ≥ 1; leading dims fold into rows) on `grid`. Differentiable
 * in x with the straight-through estimator; the grid is a constant.
 */
export function fakeQuantize(x: Tensor, grid: FakeQuantGrid): Tensor {
  registerQuantKernels();
  const device = commonDevice(
    'fakeQuantize',
    [x, grid.scales, grid.zeros],
    ['x', 'grid.scales', 'grid.zeros'],
  );
  if (x.dtype !== 'f32') throw new TypeError(`fakeQuantize: x has dtype ${x.dtype}; expected f32`);
  if (x.rank < 1) throw new RangeError('fakeQuantize: x is a scalar; expected rank 1 or more');
  const cols = x.shape[x.rank - 1]!;
  const rows = x.size / cols;
  const attrs: FakeQuantAttrs = {
    rows,
    cols,
    rowBlock: grid.rowBlock,
    groupSize: grid.groupSize,
    qmin: grid.qmin,
    qmax: grid.qmax,
  };
  const want = Math.ceil(rows / grid.rowBlock) * Math.ceil(cols / grid.groupSize);
  for (const [name, t] of [
    ['grid.scales', grid.scales],
    ['grid.zeros', grid.zeros],
  ] as const)
    if (t.size !== want || t.dtype !== 'f32')
      throw new RangeError(
        `fakeQuantize: ${name} is ${t.dtype} with ${t.size} values; expected f32 with ${want} (one per ${grid.rowBlock}×${grid.groupSize} block of [${rows}, ${cols}])`,
      );
  const ins = [x, grid.scales, grid.zeros].map((t) => (t.isContiguous ? t : contiguous(t)));
  const [y, keepMask] = execute(
    FAKE_QUANT,
    device,
    ins,
    [
      { shape: x.shape, dtype: 'f32' },
      { shape: x.shape, dtype: 'f32' },
    ],
    attrs,
  );
  ins.forEach((t, i) => t !== [x, grid.scales, grid.zeros][i] && t.dispose());
  if (needsGrad(x)) record('fake_quantize', [x], [y!], [keepMask!], ([g], [m]) => [mul(g!, m!)]);
  keepMask!.dispose();
  return y!;
}

/**
 * The grid a weight [out, in] gets under `scheme` (int8 or int4), computed on the device from
 * its current values exactly as {@link quantizeMatrix} does on the host: symmetric amax/127
 * scales, or asymmetric (max − min)/15 scales over ranges holding 0 with integer zero-points.
 */
export function weightGrid(w: Tensor, scheme: QuantScheme): FakeQuantGrid {
  const s = resolveScheme(scheme, 'weightGrid: scheme');
  if (w.rank !== 2)
    throw new RangeError(`weightGrid: w has shape [${w.shape.join(',')}]; expected [out, in]`);
  const [rows, cols] = w.shape as [number, number];
  return noGrad(() => {
    // An all-zero block gets scale 1, as on the host.
    const nonZero = (scale: Tensor): Tensor => {
      const isZero = eq(scale, 0);
      const fixed = where(isZero, 1, scale);
      isZero.dispose();
      scale.dispose();
      return fixed;
    };
    const flat = (t: Tensor): Tensor => {
      const r = reshape(t, [t.size]);
      t.dispose();
      return r;
    };
    if (s.kind === 'int8') {
      const a = abs(w);
      const amax = s.granularity === 'tensor' ? max(a) : max(a, { axis: 1 });
      const scales = flat(nonZero(div(amax, 127)));
      for (const t of [a, amax]) t.dispose();
      return {
        scales,
        zeros: zerosLike(scales),
        rowBlock: s.granularity === 'tensor' ? rows : 1,
        groupSize: cols,
        qmin: -127,
        qmax: 127,
      };
    }
    if (s.kind === 'mixed')
      throw new RangeError(
        "weightGrid: scheme.kind is 'mixed'; fake quantisation supports 'int8' and 'int4' (train with int4, then quantise to mixed)",
      );
    const g = s.groupSize;
    const groups = Math.ceil(cols / g);
    // Zero padding leaves each group's range unchanged: ranges hold 0 anyway.
    const padded =
      groups * g === cols
        ? w
        : pad(w, [
            [0, 0],
            [0, groups * g - cols],
          ]);
    const blocks = reshape(padded, [rows, groups, g]);
    const lo0 = min(blocks, { axis: 2 });
    const hi0 = max(blocks, { axis: 2 });
    const lo = minimum(lo0, 0);
    const hi = maximum(hi0, 0);
    const span = sub(hi, lo);
    const scales = nonZero(div(span, 15));
    const ratio = div(neg(lo), scales);
    const half = add(ratio, 0.5);
    const z0 = floor(half);
    const z1 = maximum(z0, 0);
    const zeros = minimum(z1, 15);
    for (const t of [blocks, lo0, hi0, lo, hi, span, ratio, half, z0, z1]) t.dispose();
    if (padded !== w) padded.dispose();
    return {
      scales: flat(scales),
      zeros: flat(zeros),
      rowBlock: 1,
      groupSize: g,
      qmin: 0,
      qmax: 15,
    };
  });
}
