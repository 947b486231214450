/**
 * Random ops over a counter-based generator (Philox4x32-10). Element i of an op
 * that reserved (seed, stream, offset) is word i % 4 of the Philox block with
 * key = seed and counter = (offset + floor(i / 4), stream), so the numbers depend
 * only on the generator's state and the element's row-major index: every backend
 * produces the same values, whatever its dispatch shapes.
 *
 * - `rand`, `randomBits`, `bernoulli`, `randint` and `dropout`'s mask are
 *   bit-identical across backends (uniforms are top-24-bit values · 2^-24, exact in f32;
 *   comparisons with scalar probabilities are integer comparisons).
 * - `randn`/`normal` use Box–Muller; the GPU's f32 ln/sin/cos differ from the reference's
 *   float64 by at most about 5e-7 (tests allow |Δ| ≤ 1e-6 + 1e-6·|z|). `uniform` and
 *   `normal` with a non-trivial affine map round once more in f32 on the GPU.
 */
import { Device } from '../device.js';
import { type DType, assertDType, isFloat } from '../dtype.js';
import { DeviceMismatchError } from '../errors.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { Generator, defaultGenerator, philoxStart } from '../random/generator.js';
import type { DropoutKernelAttrs, PhiloxStart } from '../random/philox.js';
import { assertShape, broadcastShapes, fmt, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';

export { Generator, DEFAULT_SEED, defaultGenerator, manualSeed } from '../random/generator.js';
export type { GeneratorOptions, GeneratorState, PhiloxReservation } from '../random/generator.js';
export { philox4x32 } from '../random/philox.js';

/** Where random numbers come from and where they go. */
export interface RandomOptions {
  /** Defaults to the global generator ({@link defaultGenerator}, reseeded by `manualSeed`). */
  generator?: Generator;
  /** Defaults to `Device.default()`. */
  device?: Device;
}

/** {@link RandomOptions} for float results. */
export interface RandomFloatOptions extends RandomOptions {
  /** A float dtype; defaults to f32. 16-bit results are the f32 values rounded to nearest even. */
  dtype?: DType;
  /** Make the result a leaf that records gradients (e.g. a parameter's initial value). */
  requiresGrad?: boolean;
}

/** Options of {@link bernoulli}. */
export interface BernoulliOptions extends RandomOptions {
  /** The result's shape: required when `p` is a number; otherwise `p` must broadcast to it (default `p.shape`). */
  shape?: readonly number[];
}

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** When false, dropout is the identity (evaluation mode). Default true. */
  training?: boolean;
  /** Defaults to the global generator. The backward pass reuses the forward's counters. */
  generator?: Generator;
}

const TWO_24 = 2 ** 24;

function generatorOf(op: string, options: RandomOptions | DropoutOptions): Generator {
  const g = options.generator;
  if (g === undefined) return defaultGenerator();
  if (!(g instanceof Generator))
    throw new TypeError(`${op}: options.generator must be a Generator; got ${String(g)}`);
  return g;
}

function deviceOf(op: string, options: RandomOptions): Device {
  const device = options.device ?? Device.default();
  if (device.isClosed) throw new Error(`${op}: device ${device.name} is closed`);
  return device;
}

function floatDType(op: string, options: RandomFloatOptions): DType {
  const dtype = options.dtype ?? 'f32';
  assertDType(dtype, op);
  if (!isFloat(dtype))
    throw new TypeError(
      `${op}: options.dtype is ${dtype}; expected a float dtype (f32, f16, bf16)`,
    );
  return dtype;
}

function finiteNumber(op: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError(`${op}: ${arg} is ${String(value)}; expected a finite number`);
  return value;
}

function probability(op: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new RangeError(`${op}: ${arg} is ${String(value)}; expected a number in [0, 1]`);
  return value;
}

/** Reserves counters for `shape` and returns the kernel's stream start. */
function reserve(generator: Generator, shape: readonly number[]): PhiloxStart {
  return philoxStart(generator.next(sizeOf(shape)));
}

/** Integer threshold t with `(w >> 8) < t` ⟺ `(w >> 8) · 2^-24 < p`, exactly, for p in [0, 1]. */
function thresholdOf(p: number): number {
  return Math.min(TWO_24, Math.max(0, Math.ceil(p * TWO_24)));
}

function floatRandom(
  op: string,
  kernel: 'random_uniform' | 'random_normal',
  shape: readonly number[],
  params: Record<string, number>,
  options: RandomFloatOptions,
): Tensor {
  assertShape(op, 'shape', shape);
  const dtype = floatDType(op, options);
  const device = deviceOf(op, options);
  const generator = generatorOf(op, options);
  const start = reserve(generator, shape);
  const [t] = execute(kernel, device, [], [{ shape, dtype }], { start, ...params });
  if (options.requiresGrad) t!.requireGrad();
  return t!;
}

/**
 * Uniform values in [0, 1): the top 24 bits of each Philox word times 2^-24, so every
 * value is exact in f32 and the same on every backend.
 */
export function rand(shape: readonly number[], options: RandomFloatOptions = {}): Tensor {
  return floatRandom('rand', 'random_uniform', shape, { low: 0, span: 1 }, options);
}

/** Uniform values in [low, high): `low + (high − low) · u` with u as in {@link rand}. */
export function uniform(
  shape: readonly number[],
  low = 0,
  high = 1,
  options: RandomFloatOptions = {},
): Tensor {
  finiteNumber('uniform', 'low', low);
  finiteNumber('uniform', 'high', high);
  if (!(low <= high))
    throw new RangeError(`uniform: low is ${low} and high is ${high}; expected low <= high`);
  return floatRandom('uniform', 'random_uniform', shape, { low, span: high - low }, options);
}

/**
 * Standard normal values by Box–Muller: each Philox block's word pairs (0,1) and (2,3)
 * give two normals each, `√(−2 ln u1)·cos θ` and `√(−2 ln u1)·sin θ`, with
 * u1 = ((w0 >> 8) + 1) · 2^-24 ∈ (0, 1] (never 0, so |z| ≤ 5.77; +1 rather than +0.5
 * keeps u1 exact in f32) and θ = 2π · (w1 >> 8) · 2^-24. The WebGPU kernel evaluates
 * ln, sin and cos with its own f32 code (exact quadrant reduction from θ's integer bits)
 * rather than the built-ins, whose WGSL accuracy bounds are loose.
 */
export function randn(shape: readonly number[], options: RandomFloatOptions = {}): Tensor {
  return floatRandom('randn', 'random_normal', shape, { mean: 0, std: 1 }, options);
}

/** Normal values `mean + std · z` with z as in {@link randn}. */
export function normal(
  shape: readonly number[],
  mean = 0,
  std = 1,
  options: RandomFloatOptions = {},
): Tensor {
  finiteNumber('normal', 'mean', mean);
  finiteNumber('normal', 'std', std);
  if (std < 0) throw new RangeError(`normal: std is ${std}; expected std >= 0`);
  return floatRandom('normal', 'random_normal', shape, { mean, std }, options);
}

/**
 * The raw u32 words of the Philox stream (element i is word i % 4 of block
 * offset + floor(i / 4)). With a generator whose seed, stream and offset equal a
 * Random123 key and counter, the first four words are that known-answer vector.
 */
export function randomBits(shape: readonly number[], options: RandomOptions = {}): Tensor {
  assertShape('randomBits', 'shape', shape);
  const device = deviceOf('randomBits', options);
  const start = reserve(generatorOf('randomBits', options), shape);
  const [t] = execute('random_bits', device, [], [{ shape, dtype: 'u32' }], { start });
  return t!;
}

/**
 * Bool samples that are true with probability `p`: `u < p` with u as in {@link rand}.
 * `p` is a number (then `options.shape` gives the shape) or a float tensor of
 * probabilities broadcast to `options.shape` (default its own shape). Not differentiable.
 */
export function bernoulli(p: Tensor | number, options: BernoulliOptions = {}): Tensor {
  const generator = generatorOf('bernoulli', options);
  if (p instanceof Tensor) {
    const device = commonDevice('bernoulli', [p], ['p']);
    if (options.device && options.device !== device)
      throw new DeviceMismatchError(
        'bernoulli',
        'options.device',
        options.device.name,
        device.name,
      );
    if (!isFloat(p.dtype))
      throw new TypeError(`bernoulli: p has dtype ${p.dtype}; expected a float dtype`);
    const shape = options.shape ?? p.shape;
    assertShape('bernoulli', 'options.shape', shape);
    const b = broadcastShapes('bernoulli', p.shape, shape);
    if (!sameShape(b, shape)) {
      throw new RangeError(
        `bernoulli: p has shape ${fmt(p.shape)}; expected it to broadcast to options.shape ${fmt(shape)}`,
      );
    }
    const start = reserve(generator, shape);
    return execute('bernoulli', device, [p], [{ shape, dtype: 'bool' }], {
      start,
      threshold: 0,
    })[0]!;
  }
  probability('bernoulli', 'p', p);
  if (options.shape === undefined)
    throw new TypeError('bernoulli: p is a number, so options.shape is required; got none');
  assertShape('bernoulli', 'options.shape', options.shape);
  const { shape } = options;
  const device = deviceOf('bernoulli', options);
  const start = reserve(generator, shape);
  return execute('bernoulli', device, [], [{ shape, dtype: 'bool' }], {
    start,
    threshold: thresholdOf(p),
  })[0]!;
}

/**
 * Integers uniform in [low, high) as i32: `low + floor(w · (high − low) / 2^32)` for a
 * 32-bit Philox word w, computed exactly (64-bit product). This multiply-shift map has
 * no rejection loop, so a value's probability is off from 1/range by at most
 * 1/2^32 (relative bias range/2^32: below 2.4e-7 for ranges up to 1000).
 */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: RandomOptions = {},
): Tensor {
  for (const [arg, v] of [
    ['low', low],
    ['high', high],
  ] as const) {
    if (!Number.isSafeInteger(v))
      throw new TypeError(`randint: ${arg} is ${String(v)}; expected an integer`);
  }
  if (low < -(2 ** 31) || high > 2 ** 31 || !(low < high)) {
    throw new RangeError(
      `randint: got low ${low} and high ${high}; expected -2^31 <= low < high <= 2^31 (i32 results)`,
    );
  }
  assertShape('randint', 'shape', shape);
  const device = deviceOf('randint', options);
  const start = reserve(generatorOf('randint', options), shape);
  return execute('randint', device, [], [{ shape, dtype: 'i32' }], {
    start,
    low,
    range: high - low,
  })[0]!;
}

/** Applies a dropout mask (regenerated from `attrs`) and records the same mask for the gradient. */
function dropoutMasked(x: Tensor, attrs: DropoutKernelAttrs): Tensor {
  const device = x.device;
  const [y] = execute('dropout', device, [x], [{ shape: x.shape, dtype: x.dtype }], attrs);
  if (needsGrad(x)) record('dropout', [x], [y!], [], ([g]) => [dropoutMasked(g!, attrs)]);
  return y!;
}

/**
 * Dropout: `x · mask / (1 − p)` where each mask element is 0 with probability p
 * (dropped where u < p, u as in {@link rand}). Dropped elements are exactly 0, even
 * where x is inf or NaN. The backward pass is `g · mask / (1 − p)`.
 *
 * The mask is not stored: backward regenerates it from the seed and counter range the
 * forward reserved, which costs one Philox block per four elements instead of keeping a
 * mask tensor alive (a bool is a 32-bit word on the GPU, as large as x itself).
 * With `training: false`, p = 0 or p = 1 no random numbers are drawn: the first two
 * return x's values (as a new handle), p = 1 returns zeros.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const device = commonDevice('dropout', [x], ['x']);
  if (!isFloat(x.dtype))
    throw new TypeError(`dropout: x has dtype ${x.dtype}; expected a float dtype`);
  probability('dropout', 'p', p);
  const generator = generatorOf('dropout', options);
  const training = options.training ?? true;
  if (typeof training !== 'boolean')
    throw new TypeError(`dropout: options.training is ${String(training)}; expected a boolean`);
  if (!training || p === 0) {
    const y = x.view(x.shape, x.strides, x.offset);
    if (needsGrad(x)) record('dropout', [x], [y], [], ([g]) => [g!.share()]);
    return y;
  }
  if (p === 1) {
    const y = full(x.shape, 0, { device, dtype: x.dtype });
    if (needsGrad(x))
      record('dropout', [x], [y], [], ([g]) => [full(g!.shape, 0, { device, dtype: g!.dtype })]);
    return y;
  }
  const start = reserve(generator, x.shape);
  return dropoutMasked(x, { start, threshold: thresholdOf(p), scale: 1 / (1 - p) });
}
