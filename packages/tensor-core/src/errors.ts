/** Errors raised by ops. Messages name the op, the argument, what it got and what was expected. */

/** Raised when a tensor is used after `dispose()`. */
export class DisposedTensorError extends Error {
  constructor(op: string, arg: string) {
    super(
      `${op}: ${arg} was disposed; a tensor cannot be used after dispose() (keep it with keep() or return it from scope())`,
    );
    this.name = 'DisposedTensorError';
  }
}

/** Raised when one op receives tensors of two devices. */
export class DeviceMismatchError extends Error {
  constructor(op: string, arg: string, got: string, want: string) {
    super(
      `${op}: ${arg} is on device ${got}, but the op runs on ${want}; move it with .to(device) first`,
    );
    this.name = 'DeviceMismatchError';
  }
}
