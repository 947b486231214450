/**
 * A quantised weight on a device: each part's packed codes, scales, zeros and
 * column map as tensors, and the matmul that reads them without unpacking
 * into memory.
 */
import {
  type Device,
  type Tensor,
  add,
  cast,
  contiguous,
  execute,
  executeInPlace,
  matmul,
  noGrad,
  record,
  zeros,
  fromArray,
  keep,
  needsGrad,
  reshape,
} from '@fathom/tensor-core';
import {
  QUANT_DEQUANTIZE,
  QUANT_MATMUL,
  type QuantMatmulAttrs,
  registerQuantKernels,
} from './kernels.js';
import type { CodeBits } from './packing.js';
import type { QuantPart, QuantizedMatrix } from './quantize.js';
import type { ResolvedScheme } from './scheme.js';

/** One part of a {@link QuantWeight} on a device. */
export interface DeviceQuantPart {
  bits: CodeBits;
  symmetric: boolean;
  rows: number;
  cols: number;
  rowBlock: number;
  groupSize: number;
  /** u32 [words]. */
  codes: Tensor;
  /** f32 [scale count]. */
  scales: Tensor;
  /** f32 [scale count] or null (symmetric). */
  zeros: Tensor | null;
  /** u32 [cols] or null. */
  columns: Tensor | null;
}

/** A quantised [rows = out, cols = in] matrix held on a device. Owns its tensors: call `dispose()`. */
export class QuantWeight {
  /** @internal Use {@link QuantWeight.upload} or the checkpoint loader. */
  constructor(
    readonly scheme: ResolvedScheme,
    readonly rows: number,
    readonly cols: number,
    readonly parts: readonly DeviceQuantPart[],
  ) {}

  /** Uploads a host-side quantised matrix to `device`. */
  static upload(q: QuantizedMatrix, device: Device): QuantWeight {
    const parts = q.parts.map((p: QuantPart) => ({
      bits: p.bits,
      symmetric: p.symmetric,
      rows: p.rows,
      cols: p.cols,
      rowBlock: p.rowBlock,
      groupSize: p.groupSize,
      // Kept out of any scope: the weight lives as long as its layer.
      codes: keep(fromArray(p.codes, [p.codes.length], { device, dtype: 'u32' })),
      scales: keep(fromArray(p.scales, [p.scales.length], { device, dtype: 'f32' })),
      zeros: p.zeros ? keep(fromArray(p.zeros, [p.zeros.length], { device, dtype: 'f32' })) : null,
      columns: p.columns
        ? keep(fromArray(p.columns, [p.columns.length], { device, dtype: 'u32' }))
        : null,
    }));
    return new QuantWeight(q.scheme, q.rows, q.cols, parts);
  }

  /** Reads the tensors back into a host-side {@link QuantizedMatrix}. */
  async download(): Promise<QuantizedMatrix> {
    const parts: QuantPart[] = [];
    for (const p of this.parts)
      parts.push({
        bits: p.bits,
        symmetric: p.symmetric,
        rows: p.rows,
        cols: p.cols,
        rowBlock: p.rowBlock,
        groupSize: p.groupSize,
        codes: Uint32Array.from(await p.codes.toArray()),
        scales: Float32Array.from(await p.scales.toArray()),
        zeros: p.zeros ? Float32Array.from(await p.zeros.toArray()) : null,
        columns: p.columns ? Uint32Array.from(await p.columns.toArray()) : null,
      });
    return { scheme: this.scheme, rows: this.rows, cols: this.cols, parts };
  }

  /** Device bytes of every tensor. */
  get byteLength(): number {
    return this.tensors().reduce((n, t) => n + t.size * 4, 0);
  }

  /** Every tensor this weight owns. */
  tensors(): Tensor[] {
    return this.parts.flatMap((p) =>
      [p.codes, p.scales, p.zeros, p.columns].filter((t): t is Tensor => t !== null),
    );
  }

  /** Frees every tensor. */
  dispose(): void {
    for (const t of this.tensors()) t.dispose();
  }
}

/**
 * `x · Wᵀ` for x [..., in] with W quantised: the kernel unpacks codes tile by tile, so the
 * weight never exists in float form in memory. Differentiable in x (the backward pass decodes
 * the weight once); the weight itself is frozen.
 */
export function quantMatmul(x: Tensor, w: QuantWeight): Tensor {
  registerQuantKernels();
  if (x.shape[x.rank - 1] !== w.cols)
    throw new RangeError(
      `quantMatmul: x has shape [${x.shape.join(',')}]; expected last dim ${w.cols} (the weight's input features)`,
    );
  const device = x.device;
  const m = x.size / w.cols;
  const xf = x.dtype === 'f32' ? x : cast(x, 'f32');
  const xs = xf.isContiguous ? xf : contiguous(xf);
  let y: Tensor | null = null;
  for (const p of w.parts) {
    const attrs = partAttrs(p, m, w.cols);
    const ins = [xs, ...partInputs(p)];
    const [part] = execute(
      QUANT_MATMUL,
      device,
      ins,
      [{ shape: [m, p.rows], dtype: 'f32' }],
      attrs,
    );
    if (y === null) y = part!;
    else {
      const sum = add(y, part!);
      y.dispose();
      part!.dispose();
      y = sum;
    }
  }
  if (xs !== xf) xs.dispose();
  if (xf !== x) xf.dispose();
  const out = noGrad(() => reshape(y!, [...x.shape.slice(0, -1), w.rows]));
  y!.dispose();
  if (needsGrad(x)) {
    // dx = dy · W, with W dequantised for the backward pass only (the weight gets no gradient).
    const shape = x.shape;
    record('quant_matmul', [x], [out], [], ([g]) => {
      const wf = dequantize(w);
      const g2 = reshape(g!, [-1, w.rows]);
      const dx = matmul(g2, wf);
      const r = reshape(dx, shape);
      for (const t of [wf, g2, dx]) t.dispose();
      return [r];
    });
  }
  return out;
}

function partAttrs(p: DeviceQuantPart, m: number, kx: number): QuantMatmulAttrs {
  return {
    m,
    n: p.rows,
    k: p.cols,
    kx,
    bits: p.bits,
    rowBlock: p.rowBlock,
    groupSize: p.groupSize,
    hasZeros: p.zeros !== null,
    hasColumns: p.columns !== null,
  };
}

function partInputs(p: DeviceQuantPart): Tensor[] {
  return [p.codes, p.scales, p.zeros, p.columns].filter((t): t is Tensor => t !== null);
}

/** The weight as a dense f32 tensor [rows, cols] on its device (decoded by a kernel; not differentiable). */
export function dequantize(w: QuantWeight): Tensor {
  registerQuantKernels();
  const device = w.parts[0]!.codes.device;
  const out = zeros([w.rows, w.cols], { device });
  noGrad(() => {
    for (const p of w.parts)
      executeInPlace(QUANT_DEQUANTIZE, partInputs(p), [out], partAttrs(p, 0, w.cols));
  });
  return out;
}
