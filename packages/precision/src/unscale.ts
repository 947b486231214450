/**
 * The loss scaler's device side: unscale every gradient in place and count the
 * gradients holding inf or NaN, with one kernel per gradient and one reduction,
 * so the step needs exactly one readback (the count).
 */
import { type Tensor, execute, executeInPlace, zeros } from '@fathom/tensor-core';
import { COUNT_FLAGS, UNSCALE_CHECK, registerGradKernels } from './kernels/grad-kernels.js';

/**
 * Multiplies each f32 gradient in place by `invScale` and returns a u32 tensor
 * of shape [1] holding how many gradients have a non-finite value (before or
 * after unscaling). The caller owns (disposes) the result; reading it is the
 * only device → host transfer. Gradients must be contiguous f32 leaves' grads.
 */
export function unscaleAndCount(grads: readonly Tensor[], invScale: number): Tensor {
  registerGradKernels();
  if (grads.length === 0)
    throw new RangeError('unscaleAndCount: grads is empty; expected at least one gradient');
  if (typeof invScale !== 'number' || !(invScale > 0) || !Number.isFinite(invScale))
    throw new RangeError(
      `unscaleAndCount: invScale is ${String(invScale)}; expected a finite number > 0`,
    );
  grads.forEach((g, i) => {
    if (g.dtype !== 'f32')
      throw new TypeError(`unscaleAndCount: grads[${i}] has dtype ${g.dtype}; expected f32`);
  });
  const device = grads[0]!.device;
  const flags = zeros([grads.length], { device, dtype: 'u32' });
  try {
    grads.forEach((g, slot) => executeInPlace(UNSCALE_CHECK, [], [g, flags], { invScale, slot }));
    return execute(COUNT_FLAGS, device, [flags], [{ shape: [1], dtype: 'u32' }], {})[0]!;
  } finally {
    flags.dispose();
  }
}
