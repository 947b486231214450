/**
 * SwiGLU's gating, `silu(gate) · up`, fused in one kernel with a fused backward.
 *
 * Kernel contracts (every backend; the op makes both inputs contiguous):
 * - `swiglu`: inputs [gate, up] of one shape; outputs [y].
 * - `swiglu_grad`: inputs [gate, up, dy]; outputs [dgate, dup] with
 *   dgate = dy·up·σ(g)·(1 + g·(1 − σ(g))) and dup = dy·silu(g).
 */
import { isFloat, promoteTypes } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';

function dense(t: Tensor): Tensor {
  return t.isContiguous
    ? t
    : execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

/**
 * `silu(gate) · up` (the gated activation of LLaMA's SwiGLU MLP) in one pass over memory,
 * where the unfused form stores silu(gate) and reads it back; backward is one kernel too.
 *
 * @param gate - Float tensor of any shape.
 * @param up - Float tensor of the same shape (no broadcasting).
 * @returns A tensor of that shape in the promoted dtype.
 */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  for (const [t, name] of [
    [gate, 'gate'],
    [up, 'up'],
  ] as const) {
    if (!(t instanceof Tensor))
      throw new TypeError(`swiglu: ${name} must be a Tensor; got ${typeof t}`);
    if (!isFloat(t.dtype))
      throw new TypeError(`swiglu: ${name} has dtype ${t.dtype}; expected f32, f16 or bf16`);
  }
  const device = commonDevice('swiglu', [gate, up], ['gate', 'up']);
  if (!sameShape(gate.shape, up.shape))
    throw new RangeError(
      `swiglu: up has shape ${fmt(up.shape)}; expected gate's shape ${fmt(gate.shape)}`,
    );
  const dtype = promoteTypes(gate.dtype, up.dtype);
  const g = dense(gate);
  const u = dense(up);
  const [y] = execute('swiglu', device, [g, u], [{ shape: gate.shape, dtype }], {});
  if (needsGrad(gate, up)) {
    record('swiglu', [gate, up], [y!], [g, u], ([dy], [sg, su]) => {
      const d = dense(dy!);
      const [dg, du] = execute(
        'swiglu_grad',
        device,
        [sg!, su!, d],
        [
          { shape: sg!.shape, dtype: gate.dtype },
          { shape: su!.shape, dtype: up.dtype },
        ],
        {},
      );
      if (d !== dy) d.dispose();
      return [dg!, du!];
    });
  }
  if (g !== gate) g.dispose();
  if (u !== up) u.dispose();
  return y!;
}
