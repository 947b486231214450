/** Creating tensors: from host data, constants, ranges and random numbers. */
import { Device } from '../device.js';
import { type DType, assertDType, isFloat } from '../dtype.js';
import { emptyTensor, execute } from '../execute.js';
import { assertShape, fmt, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Where and how to create a tensor. */
export interface CreateOptions {
  /** Defaults to `Device.default()`. */
  device?: Device;
  /** Defaults to f32 (i32 for `arange` over integers, the array's type for `fromArray`). */
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Nested arrays of numbers or booleans. */
export type NestedArray = number | boolean | readonly NestedArray[];

function finish(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.requireGrad();
  return t;
}

function deviceOf(options: CreateOptions): Device {
  return options.device ?? Device.default();
}

function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = (level as readonly NestedArray[])[0] ?? 0;
  }
  const flatCount = (a: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(a))
        throw new RangeError(`${op}: data is ragged; expected shape ${fmt(shape)}`);
      return;
    }
    if (!Array.isArray(a) || a.length !== shape[depth]) {
      throw new RangeError(
        `${op}: data is ragged at depth ${depth}; expected ${shape[depth]} entries as in shape ${fmt(shape)}`,
      );
    }
    for (const x of a as readonly NestedArray[]) flatCount(x, depth + 1);
  };
  flatCount(data, 0);
  return shape;
}

/** Allocates a tensor and uploads `values` (row-major) into it. */
export function fromValues(
  device: Device,
  shape: readonly number[],
  dtype: DType,
  values: ArrayLike<number>,
): Tensor {
  const t = emptyTensor(device, shape, dtype);
  if (values.length > 0) device.backend.write(t.storage.handle, dtype, values);
  return t;
}

/** A tensor from (nested) JavaScript arrays or a number: `tensor([[1, 2], [3, 4]])`. */
export function tensor(data: NestedArray, options: CreateOptions = {}): Tensor {
  const shape = inferShape(data, 'tensor');
  const flat = (Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data]) as (
    number | boolean
  )[];
  const dtype = options.dtype ?? (typeof flat[0] === 'boolean' ? 'bool' : 'f32');
  assertDType(dtype, 'tensor');
  return finish(fromValues(deviceOf(options), shape, dtype, flat.map(Number)), options);
}

const TYPED_DTYPE: [new (...a: never[]) => unknown, DType][] = [
  [Float32Array, 'f32'],
  [Float64Array, 'f32'],
  [Int32Array, 'i32'],
  [Uint32Array, 'u32'],
  [Uint8Array, 'bool'],
  [Int8Array, 'i32'],
  [Int16Array, 'i32'],
  [Uint16Array, 'u32'],
];

/** A tensor of `shape` from a flat typed array (or number array) in row-major order. */
export function fromArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  options: CreateOptions = {},
): Tensor {
  assertShape('fromArray', 'shape', shape);
  if (values.length !== sizeOf(shape)) {
    throw new RangeError(
      `fromArray: values has ${values.length} elements; shape ${fmt(shape)} needs ${sizeOf(shape)}`,
    );
  }
  const inferred = TYPED_DTYPE.find(([ctor]) => values instanceof ctor)?.[1] ?? 'f32';
  const dtype = options.dtype ?? inferred;
  assertDType(dtype, 'fromArray');
  return finish(fromValues(deviceOf(options), shape, dtype, values), options);
}

/** A tensor of `shape` with every element `value` (computed on the device, no upload). */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  assertShape('full', 'shape', shape);
  const dtype = options.dtype ?? 'f32';
  assertDType(dtype, 'full');
  const device = deviceOf(options);
  const [t] = execute('fill', device, [], [{ shape, dtype }], { value });
  return finish(t!, options);
}

/** Zeros of `shape`. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** Ones of `shape`. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros with `t`'s shape, dtype and device. */
export function zerosLike(t: Tensor, options: Omit<CreateOptions, 'device'> = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options, device: t.device });
}

/** Ones with `t`'s shape, dtype and device. */
export function onesLike(t: Tensor, options: Omit<CreateOptions, 'device'> = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options, device: t.device });
}

/** A rank-0 tensor holding `value`. */
export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return full([], value, options);
}

/** `[start, start+step, …)` below `end`, like `torch.arange`. i32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step))
    throw new RangeError(`arange: step must be a finite non-zero number; got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = [start, end, step].every(Number.isInteger);
  const dtype = options.dtype ?? (ints ? 'i32' : 'f32');
  const values = Float64Array.from({ length: n }, (_, i) => start + i * step);
  if (!isFloat(dtype) && !ints)
    throw new TypeError(`arange: dtype ${dtype} needs integer start, end and step`);
  return finish(fromValues(deviceOf(options), [n], dtype, values), options);
}
