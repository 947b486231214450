/**
 * FP8 as a storage format: a tensor's values as packed e4m3/e5m2 codes plus
 * f32 power-of-two scales per block, following DeepSeek-V3's fine-grained
 * scaling (1×128 tiles for activations, 128×128 blocks for weights), and a
 * matmul that reads the weight in FP8 and dequantises it inside the kernel.
 */
import {
  type DType,
  type Tensor,
  cast,
  contiguous,
  commonDevice,
  execute,
  isFloat,
  matmul,
  needsGrad,
  record,
  reshape,
} from '@fathom/tensor-core';
import {
  FP8_DEQUANTIZE,
  FP8_MATMUL,
  FP8_QUANTIZE,
  FP8_SCALES,
  registerFp8Kernels,
  type Fp8BlockAttrs,
} from './fp8-kernels.js';
import { fp8Info, type Fp8Format } from './format.js';

/**
 * How values share a scale: one per tensor, one per 1×128 tile of a row
 * (activations in DeepSeek-V3), one per 128×128 block (weights), or any
 * `[blockRows, blockCols]`. Leading dims fold into rows; the last dim is columns.
 */
export type Fp8Scaling = 'tensor' | '1x128' | '128x128' | readonly [number, number];

/** Options of {@link quantizeFp8}. */
export interface QuantizeFp8Options {
  /** Default 'e4m3'. */
  format?: Fp8Format;
  /** Default '128x128'. */
  scaling?: Fp8Scaling;
  /** Clamp overflow to ±max (default true for e4m3; e5m2 defaults to ±inf). Scales keep blocks in range anyway. */
  saturate?: boolean;
}

/** A tensor stored as FP8 codes with block scales. Owns its two device tensors: call `dispose()`. */
export class Fp8Tensor {
  /** @internal Use {@link quantizeFp8}. */
  constructor(
    /** u32 words, four codes each (element i in byte i % 4 of word ⌊i/4⌋, low byte first). */
    readonly codes: Tensor,
    /** f32 scales, [⌈rows/blockRows⌉, ⌈cols/blockCols⌉]: value ≈ decode(code) · scale. */
    readonly scales: Tensor,
    /** The logical shape of the values. */
    readonly shape: readonly number[],
    readonly format: Fp8Format,
    /** [blockRows, blockCols] after resolving the scaling. */
    readonly block: readonly [number, number],
  ) {}

  /** Rows of the folded matrix (product of all dims but the last). */
  get rows(): number {
    return this.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  }

  /** Columns of the folded matrix (the last dim). */
  get cols(): number {
    return this.shape[this.shape.length - 1]!;
  }

  /** Device bytes of codes plus scales. */
  get byteLength(): number {
    return this.codes.storage.handle.byteLength + this.scales.storage.handle.byteLength;
  }

  /** @internal Kernel attributes. */
  attrs(): Fp8BlockAttrs {
    return {
      format: this.format,
      rows: this.rows,
      cols: this.cols,
      blockRows: this.block[0],
      blockCols: this.block[1],
    };
  }

  /** Frees the codes and scales. */
  dispose(): void {
    this.codes.dispose();
    this.scales.dispose();
  }
}

function resolveBlock(scaling: unknown, rows: number, cols: number): [number, number] {
  if (scaling === 'tensor') return [Math.max(rows, 1), Math.max(cols, 1)];
  if (scaling === '1x128') return [1, 128];
  if (scaling === '128x128') return [128, 128];
  if (
    Array.isArray(scaling) &&
    scaling.length === 2 &&
    scaling.every((v) => Number.isInteger(v) && v > 0)
  )
    return [scaling[0] as number, scaling[1] as number];
  throw new TypeError(
    `quantizeFp8: options.scaling is ${JSON.stringify(scaling)}; expected 'tensor', '1x128', '128x128' or [blockRows, blockCols] of positive integers`,
  );
}

/**
 * Quantises a float tensor (rank ≥ 1) to FP8: per-block power-of-two scales
 * computed on the device, then codes rounded to nearest even. Not differentiable.
 */
export function quantizeFp8(x: Tensor, options: QuantizeFp8Options = {}): Fp8Tensor {
  registerFp8Kernels();
  const device = commonDevice('quantizeFp8', [x], ['x']);
  if (!isFloat(x.dtype))
    throw new TypeError(`quantizeFp8: x has dtype ${x.dtype}; expected f32, f16 or bf16`);
  if (x.rank < 1)
    throw new RangeError('quantizeFp8: x is a scalar (shape []); expected rank 1 or more');
  const format = options.format ?? 'e4m3';
  const info = fp8Info(format, 'quantizeFp8: options.format');
  const cols = x.shape[x.rank - 1]!;
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const [blockRows, blockCols] = resolveBlock(options.scaling ?? '128x128', rows, cols);
  const attrs: Fp8BlockAttrs = {
    format,
    rows,
    cols,
    blockRows,
    blockCols,
    saturate: options.saturate ?? info.saturateByDefault,
  };
  const xs = x.isContiguous ? x : contiguous(x);
  try {
    const scaleShape = [Math.ceil(rows / blockRows), Math.ceil(cols / blockCols)];
    const [scales] = execute(
      FP8_SCALES,
      device,
      [xs],
      [{ shape: scaleShape, dtype: 'f32' }],
      attrs,
    );
    const words = Math.ceil((rows * cols) / 4);
    const [codes] = execute(
      FP8_QUANTIZE,
      device,
      [xs, scales!],
      [{ shape: [words], dtype: 'u32' }],
      attrs,
    );
    return new Fp8Tensor(codes!, scales!, [...x.shape], format, [blockRows, blockCols]);
  } finally {
    if (xs !== x) xs.dispose();
  }
}

/** The values of an {@link Fp8Tensor} as a float tensor of its shape (f32 unless `dtype` says otherwise). */
export function dequantizeFp8(q: Fp8Tensor, dtype: DType = 'f32'): Tensor {
  registerFp8Kernels();
  if (!(q instanceof Fp8Tensor))
    throw new TypeError(`dequantizeFp8: q must be an Fp8Tensor; got ${typeof q}`);
  if (!isFloat(dtype))
    throw new TypeError(`dequantizeFp8: dtype is ${dtype}; expected f32, f16 or bf16`);
  const device = commonDevice('dequantizeFp8', [q.codes, q.scales], ['q.codes', 'q.scales']);
  const [y] = execute(
    FP8_DEQUANTIZE,
    device,
    [q.codes, q.scales],
    [{ shape: q.shape, dtype }],
    q.attrs(),
  );
  return y!;
}

/**
 * `x · Wᵀ` for x [..., K] (any float dtype) and an FP8 weight W [N, K] (a
 * Linear's layout), dequantised tile by tile inside the kernel and accumulated
 * in f32. The result has x's dtype. Differentiable in x (the gradient uses the
 * dequantised weight); the weight is frozen storage and gets no gradient.
 */
export function fp8Matmul(x: Tensor, w: Fp8Tensor): Tensor {
  registerFp8Kernels();
  if (!(w instanceof Fp8Tensor))
    throw new TypeError(`fp8Matmul: w must be an Fp8Tensor; got ${typeof w}`);
  const device = commonDevice('fp8Matmul', [x, w.codes], ['x', 'w.codes']);
  if (!isFloat(x.dtype))
    throw new TypeError(`fp8Matmul: x has dtype ${x.dtype}; expected f32, f16 or bf16`);
  if (w.shape.length !== 2)
    throw new RangeError(
      `fp8Matmul: w has shape [${w.shape.join(',')}]; expected a matrix [out, in]`,
    );
  const k = w.cols;
  if (x.rank < 1 || x.shape[x.rank - 1] !== k)
    throw new RangeError(
      `fp8Matmul: x has shape [${x.shape.join(',')}]; expected its last dim to be ${k} (w's dim 1)`,
    );
  const m = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const xs = x.isContiguous ? x : contiguous(x);
  let y: Tensor;
  try {
    [y] = execute(
      FP8_MATMUL,
      device,
      [xs, w.codes, w.scales],
      [{ shape: [...x.shape.slice(0, -1), w.rows], dtype: x.dtype }],
      {
        ...w.attrs(),
        m,
      },
    ) as [Tensor];
  } finally {
    if (xs !== x) xs.dispose();
  }
  if (needsGrad(x)) {
    const shape = w.shape;
    const format = w.format;
    const block = w.block;
    record('fp8Matmul', [x], [y], [w.codes, w.scales], ([g], [codes, scales]) => {
      const view = new Fp8Tensor(codes!, scales!, shape, format, block);
      const wd = dequantizeFp8(view, 'f32');
      const g2 = reshape(g!, [-1, shape[0]!]);
      const dx2 = matmul(g2, wd);
      const dx = reshape(dx2, x.shape);
      const out = dx.dtype === x.dtype ? dx : cast(dx, x.dtype);
      for (const t of [wd, g2, dx2]) t.dispose();
      if (out !== dx) dx.dispose();
      return [out];
    });
  }
  return y;
}
