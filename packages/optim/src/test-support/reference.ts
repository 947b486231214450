/**
 * Float64 oracles for the tests, written from the published update rules
 * (PyTorch's documented algorithms for AdamW and SGD, as its reference
 * implementation orders them) and independent of the kernels.
 */
import { type Device, type Tensor, fromArray } from '@fathom/tensor-core';

/** AdamW hyper-parameters for {@link adamwReference}. */
export interface AdamWRef {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/**
 * Runs AdamW over a gradient sequence (a `null` gradient skips the parameter at
 * that step, so its own step count does not advance) and returns the parameters.
 * `perStep` overrides lr or weight decay step by step.
 */
export function adamwReference(
  initial: ArrayLike<number>,
  grads: readonly (ArrayLike<number> | null)[],
  h: AdamWRef,
  perStep: { lr?: readonly number[]; weightDecay?: readonly number[] } = {},
): Float64Array {
  const n = initial.length;
  const theta = Float64Array.from(initial);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const vmax = new Float64Array(n);
  let t = 0;
  grads.forEach((g, k) => {
    if (!g) return;
    t += 1;
    const lr = perStep.lr?.[k] ?? h.lr;
    const wd = perStep.weightDecay?.[k] ?? h.weightDecay;
    for (let i = 0; i < n; i++) {
      const gi = h.maximize ? -g[i]! : g[i]!;
      theta[i] = theta[i]! - lr * wd * theta[i]!;
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * gi;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * gi * gi;
      const mHat = m[i]! / (1 - h.beta1 ** t);
      // AMSGrad keeps the running max of the raw second moment, then bias-corrects it.
      vmax[i] = Math.max(vmax[i]!, v[i]!);
      const vHat = (h.amsgrad ? vmax[i]! : v[i]!) / (1 - h.beta2 ** t);
      theta[i] = theta[i]! - (lr * mHat) / (Math.sqrt(vHat) + h.eps);
    }
  });
  return theta;
}

/** SGD hyper-parameters for {@link sgdReference}. */
export interface SgdRef {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** Runs SGD over a gradient sequence and returns the parameters. */
export function sgdReference(
  initial: ArrayLike<number>,
  grads: readonly ArrayLike<number>[],
  h: SgdRef,
): Float64Array {
  const n = initial.length;
  const theta = Float64Array.from(initial);
  const b = new Float64Array(n);
  grads.forEach((g, k) => {
    for (let i = 0; i < n; i++) {
      let d = (h.maximize ? -g[i]! : g[i]!) + h.weightDecay * theta[i]!;
      if (h.momentum !== 0) {
        b[i] = k === 0 ? d : h.momentum * b[i]! + (1 - h.dampening) * d;
        d = h.nesterov ? d + h.momentum * b[i]! : b[i]!;
      }
      theta[i] = theta[i]! - h.lr * d;
    }
  });
  return theta;
}

/** Float64 p-norm of the concatenation of arrays (p = Infinity for max |x|). */
export function normReference(arrays: readonly ArrayLike<number>[], p: number): number {
  let acc = 0;
  for (const a of arrays)
    for (let i = 0; i < a.length; i++) {
      const x = Math.abs(a[i]!);
      acc = p === Infinity ? Math.max(acc, x) : acc + x ** p;
    }
  return p === Infinity ? acc : acc ** (1 / p);
}

/** Sets a parameter's gradient to the given values (disposing any previous one). */
export function setGrad(param: Tensor, values: ArrayLike<number>): void {
  param.setGrad(fromArray(values, param.shape, { device: param.device }));
}

/** A parameter (leaf, requires grad) on a device. */
export function param(device: Device, values: ArrayLike<number>, shape: number[]): Tensor {
  return fromArray(values, shape, { device, requiresGrad: true });
}
