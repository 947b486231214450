/** Argument checks shared by the losses: errors name the argument, what it got and what was wanted. */
import type { Tensor } from '@fathom/tensor-core';

/** `[2,3,4]` for messages. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws unless `a` and `b` have the same shape. */
export function sameShape(fn: string, aName: string, a: Tensor, bName: string, b: Tensor): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(
      `${fn}: ${bName} has shape ${fmt(b.shape)}; expected ${fmt(a.shape)} (the shape of ${aName})`,
    );
  }
}

/** Throws unless `t` is floating point with at least `minRank` dims. */
export function floatRank(fn: string, name: string, t: Tensor, minRank: number): void {
  if (t.dtype !== 'f32' && t.dtype !== 'f16' && t.dtype !== 'bf16') {
    throw new TypeError(`${fn}: ${name} has dtype ${t.dtype}; expected a floating-point tensor`);
  }
  if (t.rank < minRank) {
    throw new RangeError(
      `${fn}: ${name} has shape ${fmt(t.shape)}; expected at least ${minRank} dims`,
    );
  }
}

/** Throws unless `value` is a finite number > 0. */
export function positive(fn: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${fn}: ${name} is ${value}; expected a finite number > 0`);
  }
}

/** Throws unless `value` is in [0, 1]. */
export function unitInterval(fn: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${fn}: ${name} is ${value}; expected a number in [0, 1]`);
  }
}
