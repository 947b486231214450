/** Norms of many tensors computed on the device into one tensor, with their combined norm. */
import {
  type Tensor,
  cast,
  contiguous,
  emptyTensor,
  executeInPlace,
  full,
} from '@fathom/tensor-core';
import { registerOptimKernels } from './kernels/register.js';
import {
  NORM_FINISH,
  NORM_PARTIALS,
  PARTS,
  normKind,
  type NormFinishAttrs,
} from './kernels/norm-kernels.js';
import { checkNumber } from './validate.js';

/** Norms of a list of tensors, both still on the device. */
export interface DeviceNorms {
  /** `[count]` f32: the p-norm of each tensor. */
  norms: Tensor;
  /** `[]` f32: the p-norm of all their elements together (the norm of `norms`). */
  total: Tensor;
}

/** Checks a norm order: any p > 0, or `Infinity` for the max-abs norm. */
export function checkNormType(op: string, normType: number): number {
  return checkNumber(op, 'normType', normType, { above: 0, infinite: true });
}

/**
 * The p-norm of each tensor and of all of them together, computed on their device
 * with `count + 1` dispatches and no readback. Tensors of any layout and float
 * dtype are accepted (copied to contiguous f32 first where needed). The caller
 * owns (and disposes) both results.
 */
export function normsOf(tensors: readonly Tensor[], normType = 2, op = 'normsOf'): DeviceNorms {
  registerOptimKernels();
  checkNormType(op, normType);
  const first = tensors[0];
  if (!first) throw new RangeError(`${op}: got no tensors; expected at least one`);
  const device = first.device;
  const kind = normKind(normType);
  const partials = emptyTensor(device, [tensors.length * PARTS], 'f32');
  try {
    tensors.forEach((t, slot) => {
      t.assertLive(op, `tensor ${slot}`);
      if (t.device !== device)
        throw new Error(
          `${op}: tensor ${slot} is on ${t.device.name}; expected ${device.name} like tensor 0`,
        );
      const f32 = t.dtype === 'f32' ? t : cast(t, 'f32');
      const src = f32.isContiguous ? f32 : contiguous(f32);
      try {
        executeInPlace(NORM_PARTIALS, [src], [partials], { kind, p: normType, slot });
      } finally {
        if (src !== f32) src.dispose();
        if (f32 !== t) f32.dispose();
      }
    });
    const norms = emptyTensor(device, [tensors.length], 'f32');
    const total = emptyTensor(device, [], 'f32');
    const attrs: NormFinishAttrs = { kind, p: normType, count: tensors.length };
    executeInPlace(NORM_FINISH, [partials], [norms, total], attrs);
    return { norms, total };
  } finally {
    partials.dispose();
  }
}

/** A `[]` zero on a device (the norm of nothing), for callers with no gradients. */
export function zeroNorm(device: Tensor['device']): Tensor {
  return full([], 0, { device });
}
