/**
 * Matrix product with PyTorch's `matmul` semantics: 1-D operands are promoted
 * and squeezed, batch dims broadcast NumPy-style, and transposed operands
 * (views or the `transA`/`transB` options) are read in place through their strides.
 */
import { isFloat, promoteTypes } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { fmt, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sumToShape } from './reduce.js';
import { reshape } from './views.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of `a`'s last two dims (read in place, no copy). */
  transA?: boolean;
  /** Use the transpose of `b`'s last two dims (read in place, no copy). */
  transB?: boolean;
}

/** True when the kernel's tiled loads can read a matrix view of (rows, cols) in place. */
function innerLayoutIsDense(shape: readonly number[], strides: readonly number[]): boolean {
  const r = shape.length;
  const [rows, cols] = [shape[r - 2]!, shape[r - 1]!];
  const [rs, cs] = [strides[r - 2]!, strides[r - 1]!];
  // Stride 0 (a broadcast operand, e.g. an expanded gradient) reads one address per row or column.
  return rows <= 1 || cols <= 1 || cs === 1 || rs === 1 || cs === 0 || rs === 0;
}

/**
 * A rank ≥ 2 view of `t` as the matrix operand the kernel reads: 1-D vectors become a row
 * (`asRow`) or a column, and `trans` swaps the last two dims. Layouts that are neither row- nor
 * column-major are copied first (strided gathers in both dims would defeat the tiled loads).
 */
function operandView(t: Tensor, asRow: boolean, trans: boolean): Tensor {
  let shape = [...t.shape];
  let strides = [...t.strides];
  if (shape.length === 1) {
    shape = asRow ? [1, shape[0]!] : [shape[0]!, 1];
    strides = asRow ? [0, strides[0]!] : [strides[0]!, 0];
  } else if (trans) {
    const r = shape.length;
    [shape[r - 2], shape[r - 1]] = [shape[r - 1]!, shape[r - 2]!];
    [strides[r - 2], strides[r - 1]] = [strides[r - 1]!, strides[r - 2]!];
  }
  if (innerLayoutIsDense(shape, strides)) return t.view(shape, strides, t.offset);
  // The copy is an internal temporary: execute() records no autograd.
  const [dense] = execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {});
  const view = operandView(dense!, asRow, trans);
  dense!.dispose();
  return view;
}

/**
 * Matrix product of `a` and `b`, like `torch.matmul`: for rank ≥ 2 operands the last two dims
 * multiply (`[..., M, K] @ [..., K, N] → [..., M, N]`) and the batch dims broadcast
 * (`[B,1,M,K] @ [H,K,N] → [B,H,M,N]`); a 1-D `a` is a row vector and a 1-D `b` a column vector,
 * whose added dim is removed from the result. `transA`/`transB` transpose an operand's last two
 * dims without copying. Any float dtypes; accumulates in f32 (float64 on the reference device).
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const device = commonDevice('matmul', [a, b], ['a', 'b']);
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  for (const [t, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (!isFloat(t.dtype))
      throw new TypeError(`matmul: ${name} has dtype ${t.dtype}; expected f32, f16 or bf16`);
    if (t.rank === 0)
      throw new RangeError(`matmul: ${name} is a scalar (shape []); expected rank 1 or more`);
  }
  if (transA && a.rank < 2)
    throw new RangeError(`matmul: transA needs a of rank 2 or more; got shape ${fmt(a.shape)}`);
  if (transB && b.rank < 2)
    throw new RangeError(`matmul: transB needs b of rank 2 or more; got shape ${fmt(b.shape)}`);
  const aK = a.rank === 1 ? a.shape[0]! : a.shape[a.rank - (transA ? 2 : 1)]!;
  const bK = b.rank === 1 ? b.shape[0]! : b.shape[b.rank - (transB ? 1 : 2)]!;
  if (aK !== bK) {
    const aDim = a.rank === 1 ? 'dim 0' : transA ? 'dim -2 (transA)' : 'last dim';
    const bDim = b.rank === 1 ? 'dim 0' : transB ? 'dim -1 (transB)' : 'dim -2';
    throw new RangeError(
      `matmul: b has shape ${fmt(b.shape)}; expected its ${bDim} to be ${aK} (a's ${aDim}, a has shape ${fmt(a.shape)})`,
    );
  }
  const batchA = a.shape.slice(0, Math.max(0, a.rank - 2));
  const batchB = b.shape.slice(0, Math.max(0, b.rank - 2));
  const rank = Math.max(batchA.length, batchB.length);
  const batch = new Array<number>(rank).fill(1);
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `matmul: batch dims of a ${fmt(a.shape)} and b ${fmt(b.shape)} do not broadcast: batch dim ${i - rank} is ${da} in a and ${db} in b`,
      );
    }
    batch[i] = da === 1 ? db : da;
  }

  const av = operandView(a, true, transA);
  const bv = operandView(b, false, transB);
  const m = av.shape[av.rank - 2]!;
  const n = bv.shape[bv.rank - 1]!;
  let out: Tensor;
  try {
    const [full] = execute(
      'matmul',
      device,
      [av, bv],
      [{ shape: [...batch, m, n], dtype: promoteTypes(a.dtype, b.dtype) }],
      {},
    );
    out = full!;
  } finally {
    av.dispose();
    bv.dispose();
  }
  const finalShape = [...batch, ...(a.rank === 1 ? [] : [m]), ...(b.rank === 1 ? [] : [n])];
  if (!sameShape(finalShape, out.shape)) {
    const squeezed = reshape(out, finalShape);
    out.dispose();
    out = squeezed;
  }

  if (needsGrad(a, b)) {
    const [needA, needB] = [a.requiresGrad, b.requiresGrad];
    record('matmul', [a, b], [out], [a, b], ([g], [sa, sb]) => {
      // Work on the rank ≥ 2 forms; 1-D operands get their dim back at the end.
      const a2 = sa!.rank === 1 ? reshape(sa!, [1, sa!.shape[0]!]) : sa!.share();
      const b2 = sb!.rank === 1 ? reshape(sb!, [sb!.shape[0]!, 1]) : sb!.share();
      const g2 = g!.rank === batch.length + 2 ? g!.share() : reshape(g!, [...batch, m, n]);
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (needA) {
        // dA = dC·Bᵀ; with transA the stored operand is Aᵀ, so its gradient is B·dCᵀ.
        const full = transA
          ? matmul(b2, g2, { transA: transB, transB: true })
          : matmul(g2, b2, { transB: !transB });
        ga = fitTo(full, a2.shape, sa!.shape);
      }
      if (needB) {
        // dB = Aᵀ·dC; with transB the stored operand is Bᵀ, so its gradient is dCᵀ·A.
        const full = transB
          ? matmul(g2, a2, { transA: true, transB: transA })
          : matmul(a2, g2, { transA: !transA });
        gb = fitTo(full, b2.shape, sb!.shape);
      }
      a2.dispose();
      b2.dispose();
      g2.dispose();
      return [ga, gb];
    });
  }
  return out;
}

/** Sums a batched gradient over broadcast batch dims, then gives it the operand's own shape. */
function fitTo(g: Tensor, promoted: readonly number[], shape: readonly number[]): Tensor {
  const summed = sameShape(g.shape, promoted) ? g : sumToShape(g, promoted);
  if (summed !== g) g.dispose();
  if (sameShape(summed.shape, shape)) return summed;
  const r = reshape(summed, shape);
  summed.dispose();
  return r;
}
