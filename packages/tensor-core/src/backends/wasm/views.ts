/** Layout questions the wasm kernels ask of their views before taking a native path. */
import type { TensorView } from '../../backend.js';
import { isFloat } from '../../dtype.js';
import { broadcastStrides, contiguousStrides } from '../../shape.js';
import { type WasmBackend, WasmStorage } from './wasm-backend.js';
import { getKernel } from '../../registry.js';

/** Byte address of the view's first element (4-byte elements). */
export function ptrOf(v: TensorView): number {
  return (v.handle as WasmStorage).ptr + v.offset * 4;
}

/** True when the view's values are float32 words in memory (f32, and f16/bf16 held widened). */
export function isF32Data(v: TensorView): boolean {
  return v.handle instanceof WasmStorage && isFloat(v.dtype);
}

/** Row-major contiguous, ignoring the strides of size-1 dims. */
export function isContiguous(v: TensorView): boolean {
  const want = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === want[i]);
}

/** Contiguous float32 data: what most native kernels require of their inputs. */
export function isDenseF32(v: TensorView): boolean {
  return isF32Data(v) && isContiguous(v);
}

/** Product of dims [from, to). */
export function prod(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}

/** How an operand of a broadcast binary op is laid out over [outer, inner]. */
export const Mode = { Full: 0, Scalar: 1, Row: 2, Col: 3 } as const;
/** One of {@link Mode}'s values. */
export type Mode = (typeof Mode)[keyof typeof Mode];

/**
 * The mode of `v` broadcast to `shape`, split at dim `s` into [outer, inner], or
 * null when it is none of full, scalar, row (repeated over outer) or column.
 */
export function modeAt(v: TensorView, shape: readonly number[], s: number): Mode | null {
  const bs = broadcastStrides(v.shape, v.strides, shape);
  const cs = contiguousStrides(shape);
  const inner = prod(shape, s);
  const matches = (d: number, want: number): boolean => shape[d] === 1 || bs[d] === want;
  const all = (from: number, to: number, want: (d: number) => number): boolean => {
    for (let d = from; d < to; d++) if (!matches(d, want(d))) return false;
    return true;
  };
  if (all(0, shape.length, (d) => cs[d]!)) return Mode.Full;
  if (all(0, shape.length, () => 0)) return Mode.Scalar;
  if (all(0, s, () => 0) && all(s, shape.length, (d) => cs[d]!)) return Mode.Row;
  if (all(s, shape.length, () => 0) && all(0, s, (d) => cs[d]! / inner)) return Mode.Col;
  return null;
}

/**
 * Collapses a strided view into at most `maxRank` dims (size-1 dims dropped,
 * mergeable neighbours merged), or null when more remain or a stride is negative.
 */
export function collapse(
  v: TensorView,
  maxRank: number,
): { shape: number[]; strides: number[] } | null {
  const shape: number[] = [];
  const strides: number[] = [];
  for (let d = 0; d < v.shape.length; d++) {
    const n = v.shape[d]!;
    const s = v.strides[d]!;
    if (n === 1) continue;
    if (s < 0) return null;
    const last = shape.length - 1;
    if (last >= 0 && strides[last] === s * n) {
      shape[last] = shape[last]! * n;
      strides[last] = s;
    } else {
      shape.push(n);
      strides.push(s);
    }
  }
  if (shape.length > maxRank) return null;
  while (shape.length < maxRank) {
    shape.unshift(1);
    strides.unshift(0);
  }
  return { shape, strides };
}

/** Runs the reference kernel of `op` on wasm storage and counts the call as a fallback. */
export function runReference(
  op: string,
  backend: WasmBackend,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  attrs: unknown,
): void {
  backend.count(op, false);
  getKernel(op, 'cpu')(backend, inputs, outputs, attrs);
}

/** Whether work of `size` (elements or flops) is worth waking the worker threads. */
export function worthThreads(backend: WasmBackend, size: number, threshold = 65536): boolean {
  return backend.threads > 1 && size >= threshold;
}
