/**
 * Host-side quantisation of a weight matrix [rows = out, cols = in] into one or
 * two {@link QuantPart}s, and its exact inverse for reference. The arithmetic is
 * float64 with scales rounded to f32 first, so every element's error is at most
 * half its (stored) scale.
 */
import { type CodeBits, packCodes, unpackCodes } from './packing.js';
import { type QuantScheme, type ResolvedScheme, resolveScheme } from './scheme.js';

/**
 * One quantised sub-matrix: `rows × cols` codes of `bits` bits packed row-major, value =
 * (code − zero) · scale, with scale index ⌊r / rowBlock⌋ · ⌈cols / groupSize⌉ + ⌊c / groupSize⌋.
 */
export interface QuantPart {
  bits: CodeBits;
  /** Symmetric parts have no zeros array: the zero-point is 2^(bits−1) (code 128 is 0). */
  symmetric: boolean;
  rows: number;
  cols: number;
  rowBlock: number;
  groupSize: number;
  codes: Uint32Array;
  scales: Float32Array;
  /** Integer zero-points stored as f32 (asymmetric parts), else null. */
  zeros: Float32Array | null;
  /** The input column of the full matrix that each of this part's columns is (mixed scheme), or null for all in order. */
  columns: Uint32Array | null;
}

/** A quantised matrix: one part (int8/int4) or the 8-bit and 4-bit column sets of the mixed scheme. */
export interface QuantizedMatrix {
  scheme: ResolvedScheme;
  rows: number;
  cols: number;
  parts: QuantPart[];
}

/** Number of scale entries of a part. */
export function scaleCount(p: Pick<QuantPart, 'rows' | 'cols' | 'rowBlock' | 'groupSize'>): number {
  return Math.ceil(p.rows / p.rowBlock) * Math.ceil(p.cols / p.groupSize);
}

/** Bytes of codes, scales, zeros and column map of a quantised matrix. */
export function quantizedBytes(q: QuantizedMatrix): number {
  return q.parts.reduce(
    (n, p) =>
      n +
      4 * (p.codes.length + p.scales.length + (p.zeros?.length ?? 0) + (p.columns?.length ?? 0)),
    0,
  );
}

function checkValues(values: ArrayLike<number>, rows: number, cols: number): void {
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const)
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`quantizeMatrix: ${name} is ${v}; expected a positive integer`);
  if (values.length !== rows * cols)
    throw new RangeError(
      `quantizeMatrix: values has ${values.length} elements; expected rows·cols = ${rows * cols}`,
    );
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!))
      throw new RangeError(
        `quantizeMatrix: values[${i}] is ${values[i]}; expected a finite number`,
      );
}

/** Quantises the columns `columns` (all when null) of a row-major matrix into one part. */
function quantizePart(
  get: (r: number, c: number) => number,
  rows: number,
  cols: number,
  columns: Uint32Array | null,
  bits: CodeBits,
  symmetric: boolean,
  rowBlock: number,
  groupSize: number,
): QuantPart {
  const gc = Math.ceil(cols / groupSize);
  const nScales = Math.ceil(rows / rowBlock) * gc;
  const lo = new Float64Array(nScales);
  const hi = new Float64Array(nScales);
  const col = (c: number): number => (columns ? columns[c]! : c);
  const sIndex = (r: number, c: number): number =>
    Math.floor(r / rowBlock) * gc + Math.floor(c / groupSize);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const v = get(r, col(c));
      const s = sIndex(r, c);
      if (v < lo[s]!) lo[s] = v;
      if (v > hi[s]!) hi[s] = v;
    }
  const scales = new Float32Array(nScales);
  const zeros = symmetric ? null : new Float32Array(nScales);
  const qmax = symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  for (let s = 0; s < nScales; s++) {
    // The range always holds 0 (lo ≤ 0 ≤ hi), so the zero-point is an integer in [0, qmax].
    const span = symmetric ? Math.max(-lo[s]!, hi[s]!) : hi[s]! - lo[s]!;
    const scale = Math.fround(span / qmax);
    scales[s] = scale > 0 && Number.isFinite(1 / scale) ? scale : 1;
    if (zeros) zeros[s] = Math.min(qmax, Math.max(0, Math.round(-lo[s]! / scales[s]!)));
  }
  const offset = symmetric ? 1 << (bits - 1) : 0;
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const s = sIndex(r, c);
      const v = get(r, col(c)) / scales[s]!;
      const q = symmetric
        ? Math.min(qmax, Math.max(-qmax, Math.round(v))) + offset
        : Math.min(qmax, Math.max(0, Math.round(v) + zeros![s]!));
      codes[r * cols + c] = q;
    }
  return {
    bits,
    symmetric,
    rows,
    cols,
    rowBlock,
    groupSize,
    codes: packCodes(codes, bits),
    scales,
    zeros,
    columns,
  };
}

/** The columns whose variance over rows exceeds the `percentile`-th percentile (linear interpolation). */
export function highVarianceColumns(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  percentile: number,
): boolean[] {
  const variance = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += values[r * cols + c]!;
    mean /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (values[r * cols + c]! - mean) ** 2;
    variance[c] = v / rows;
  }
  const sorted = Float64Array.from(variance).sort();
  const pos = (percentile / 100) * (cols - 1);
  const i = Math.floor(pos);
  const threshold =
    sorted[i]! + (pos - i) * ((sorted[Math.min(i + 1, cols - 1)] ?? 0) - sorted[i]!);
  return Array.from(variance, (v) => v > threshold);
}

/** Quantises a row-major [rows, cols] matrix (out × in) with `scheme`. */
export function quantizeMatrix(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  scheme: QuantScheme,
): QuantizedMatrix {
  const s = resolveScheme(scheme, 'quantizeMatrix: scheme');
  checkValues(values, rows, cols);
  const get = (r: number, c: number): number => values[r * cols + c]!;
  if (s.kind === 'int8') {
    const perTensor = s.granularity === 'tensor';
    const part = quantizePart(get, rows, cols, null, 8, true, perTensor ? rows : 1, cols);
    return { scheme: s, rows, cols, parts: [part] };
  }
  if (s.kind === 'int4')
    return {
      scheme: s,
      rows,
      cols,
      parts: [quantizePart(get, rows, cols, null, 4, false, 1, s.groupSize)],
    };
  const high = highVarianceColumns(values, rows, cols, s.percentile);
  const pick = (want: boolean): Uint32Array =>
    Uint32Array.from(high.flatMap((h, c) => (h === want ? [c] : [])));
  const parts: QuantPart[] = [];
  const c8 = pick(true);
  const c4 = pick(false);
  if (c8.length > 0) parts.push(quantizePart(get, rows, c8.length, c8, 8, true, 1, c8.length));
  if (c4.length > 0) parts.push(quantizePart(get, rows, c4.length, c4, 4, false, 1, s.groupSize));
  return { scheme: s, rows, cols, parts };
}

/** The values a quantised matrix stands for (float64, row-major [rows, cols]). */
export function dequantizeMatrix(q: QuantizedMatrix): Float64Array {
  const out = new Float64Array(q.rows * q.cols);
  for (const p of q.parts) {
    const codes = unpackCodes(p.codes, p.bits, p.rows * p.cols);
    const gc = Math.ceil(p.cols / p.groupSize);
    for (let r = 0; r < p.rows; r++)
      for (let c = 0; c < p.cols; c++) {
        const s = Math.floor(r / p.rowBlock) * gc + Math.floor(c / p.groupSize);
        const zero = p.zeros ? p.zeros[s]! : 1 << (p.bits - 1);
        const col = p.columns ? p.columns[c]! : c;
        out[r * q.cols + col] = (codes[r * p.cols + c]! - zero) * p.scales[s]!;
      }
  }
  return out;
}
