/**
 * Gradient clipping that never reads from the device: the global-norm rule of
 * PyTorch's `clip_grad_norm_`, and adaptive per-tensor clipping (AGC).
 */
import { type Device, type Tensor, contiguous, executeInPlace } from '@fathom/tensor-core';
import { AGC_SCALE, CLIP_SCALE } from './kernels/scale-kernels.js';
import { normsOf, zeroNorm } from './norms.js';
import type { NamedParameter } from './param-groups.js';
import { checkNumber } from './validate.js';

/** Parameters as plain tensors or `[name, Tensor]` pairs (names appear in errors). */
export type ParamList = readonly Tensor[] | readonly NamedParameter[];

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Order of the norm: any p > 0, or `Infinity` (max |g|). Default 2. */
  normType?: number;
}

/** Options of {@link clipGradAdaptive}. */
export interface ClipGradAdaptiveOptions {
  /** Floor of a parameter's norm, so zero-initialised tensors can still move. Default 1e-3. */
  eps?: number;
}

interface WithGrad {
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** Parameters that have gradients, each gradient made contiguous (in `.grad`) so it can be scaled in place. */
function withGrads(op: string, params: ParamList): WithGrad[] {
  const out: WithGrad[] = [];
  params.forEach((item, i) => {
    const [name, param] = Array.isArray(item)
      ? (item as NamedParameter)
      : [`params[${i}]`, item as Tensor];
    let grad = param.grad;
    if (!grad) return;
    if (grad.dtype !== 'f32')
      throw new TypeError(`${op}: the gradient of ${name} has dtype ${grad.dtype}; expected f32`);
    if (!grad.isContiguous) {
      // Broadcast gradients (e.g. of a sum) are views; scaling needs their own memory.
      param.setGrad(contiguous(grad));
      grad = param.grad!;
    }
    out.push({ name, param, grad });
  });
  return out;
}

function span(t: Tensor): [number, number] {
  return [t.offset, t.offset + t.size];
}

/**
 * The gradients to scale once each: autograd may hand two parameters the same
 * gradient storage (`a + b` gives both the incoming gradient), which must not be
 * scaled twice. Partly overlapping gradients cannot be scaled consistently.
 */
function distinctGrads(op: string, items: readonly WithGrad[]): Tensor[] {
  const seen: WithGrad[] = [];
  for (const item of items) {
    const [s0, e0] = span(item.grad);
    const twin = seen.find((o) => o.grad.storage === item.grad.storage);
    if (twin) {
      const [s1, e1] = span(twin.grad);
      if (s0 === s1 && e0 === e1) continue;
      if (s0 < e1 && s1 < e0)
        throw new Error(
          `${op}: the gradients of ${item.name} and ${twin.name} partly overlap in memory; expected separate or identical gradients`,
        );
    }
    seen.push(item);
  }
  return seen.map((s) => s.grad);
}

function deviceOf(op: string, items: readonly WithGrad[]): Device {
  const device = items[0]!.param.device;
  for (const it of items)
    if (it.param.device !== device)
      throw new Error(
        `${op}: ${it.name} is on ${it.param.device.name}; expected ${device.name} like ${items[0]!.name}`,
      );
  return device;
}

/**
 * Clips gradients in place to a global norm, as PyTorch's `clip_grad_norm_`:
 * the total p-norm over every gradient is computed on the device, and each
 * gradient is multiplied by `min(1, maxNorm / (total + 1e-6))`, also on the
 * device. Nothing is read back. Parameters without a gradient are skipped; a
 * gradient shared by two parameters is scaled once; a broadcast (non-contiguous)
 * gradient is first replaced in `.grad` by a contiguous copy.
 *
 * @returns The total norm before clipping, a `[]` f32 tensor the caller owns
 *   (read it with `await norm.item()` if needed; dispose it).
 */
export function clipGradNorm(
  params: ParamList,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Tensor {
  const op = 'clipGradNorm';
  checkNumber(op, 'maxNorm', maxNorm, { min: 0 });
  const items = withGrads(op, params);
  if (items.length === 0) {
    const first = params[0];
    if (!first) throw new RangeError(`${op}: params is empty; expected at least one parameter`);
    return zeroNorm((Array.isArray(first) ? first[1] : first).device);
  }
  deviceOf(op, items);
  const { norms, total } = normsOf(
    items.map((i) => i.grad),
    options.normType ?? 2,
    op,
  );
  norms.dispose();
  for (const grad of distinctGrads(op, items))
    executeInPlace(CLIP_SCALE, [total], [grad], { maxNorm });
  return total;
}

/**
 * Adaptive gradient clipping per tensor (after Brock et al., 2021, "AGC", with
 * the whole tensor as the unit): each gradient whose L2 norm exceeds
 * `clip · max(‖p‖, eps)` is scaled to exactly that norm, i.e. multiplied by
 * `clip · max(‖p‖, eps) / ‖g‖`; smaller gradients are unchanged. Norms and
 * scales are computed on the device; nothing is read back.
 */
export function clipGradAdaptive(
  params: ParamList,
  clip: number,
  options: ClipGradAdaptiveOptions = {},
): void {
  const op = 'clipGradAdaptive';
  checkNumber(op, 'clip', clip, { above: 0 });
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-3, { min: 0 });
  const items = withGrads(op, params);
  if (items.length === 0) return;
  deviceOf(op, items);
  if (distinctGrads(op, items).length !== items.length)
    throw new Error(
      `${op}: two parameters share one gradient tensor; each needs its own to be scaled by its own norm`,
    );
  const p = normsOf(
    items.map((i) => i.param),
    2,
    op,
  );
  const g = normsOf(
    items.map((i) => i.grad),
    2,
    op,
  );
  items.forEach((item, slot) =>
    executeInPlace(AGC_SCALE, [p.norms, g.norms], [item.grad], { slot, clip, eps }),
  );
  for (const t of [p.norms, p.total, g.norms, g.total]) t.dispose();
}
