/** Whether ops record the autograd tape. */

let enabled = true;

/** True while ops record what backward needs. */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` without recording the tape (like `torch.no_grad()`). Works for
 * synchronous functions; for async code, wrap each synchronous stretch.
 */
export function noGrad<T>(fn: () => T): T {
  const before = enabled;
  enabled = false;
  try {
    const out = fn();
    if (out instanceof Promise) {
      throw new TypeError(
        'noGrad: fn returned a Promise; pass a synchronous function (await outside noGrad)',
      );
    }
    return out;
  } finally {
    enabled = before;
  }
}

/** Sets grad mode, returning the previous value (for internal use by backward). */
export function setGradEnabled(value: boolean): boolean {
  const before = enabled;
  enabled = value;
  return before;
}

/** Runs synchronous `fn` with the tape recording, even inside `noGrad` or a backward pass (used to recompute activations). */
export function enableGrad<T>(fn: () => T): T {
  const before = setGradEnabled(true);
  try {
    return fn();
  } finally {
    setGradEnabled(before);
  }
}
