/** Where the CLI writes, and the shared option parsers; tests pass their own io. */
import { InvalidArgumentError } from 'commander';
import { Device } from '@fathom/tensor-core';

/** Output channels of the CLI. */
export interface EvalCliIo {
  /** Writes text to standard output as is (streamed generation). */
  write: (text: string) => void;
  /** Prints a line of results to standard output. */
  log: (line: string) => void;
  /** Prints a line of progress or diagnostics to standard error. */
  error: (line: string) => void;
}

/** The process's standard streams. */
export const processIo: EvalCliIo = {
  write: (text) => void process.stdout.write(text),
  log: (line) => void process.stdout.write(line + '\n'),
  error: (line) => void process.stderr.write(line + '\n'),
};

/** A commander parser for an integer ≥ min. */
export function integerArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(
        `${name} must be an integer >= ${min}; got ${JSON.stringify(value)}`,
      );
    return n;
  };
}

/** A commander parser for a number in [min, max]. */
export function numberArg(name: string, min: number, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `${name} must be a number in [${min}, ${max}]; got ${JSON.stringify(value)}`,
      );
    return n;
  };
}

/** Backends `--backend` accepts. */
export const BACKENDS = ['auto', 'webgpu', 'cpu'] as const;

/** Opens the device named by `--backend`. */
export function openDevice(backend: (typeof BACKENDS)[number]): Promise<Device> {
  return Device.open({ backend });
}
