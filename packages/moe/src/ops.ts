/**
 * The MoE ops as tensor functions with autograd: routing, the dispatch plan,
 * gathering rows into expert order, the grouped matmul and the weighted
 * combine. Backward rules are written with these same kernels.
 */
import {
  type Tensor,
  commonDevice,
  contiguous,
  execute,
  needsGrad,
  record,
} from '@fathom/tensor-core';
import { GROUPED_MATMUL, GROUPED_WGRAD } from './kernels/grouped-matmul.js';
import { PLAN, planRows } from './kernels/plan.js';
import { MAX_GROUPS, ROUTE, type GroupScore } from './kernels/route.js';
import { registerMoeKernels } from './kernels/register.js';
import { COMBINE, COMBINE_WGRAD, GATHER_ROWS } from './kernels/rows.js';

/** Options of {@link routeTopK}. */
export interface RouteOptions {
  k: number;
  /** Expert groups (default 1: no group limit). */
  groups?: number;
  /** Groups each token may use (default: all). */
  topkGroups?: number;
  /** How a group is scored: its best expert (DeepSeek-V2) or the sum of its best two (V3). */
  groupScore?: GroupScore;
}

/** How tokens were sorted by expert; every tensor lives on the device (see kernels/plan.ts). */
export interface DispatchPlan {
  /** [N·k] i32: row of each assignment, or -1 when dropped. */
  slot: Tensor;
  /** [R] i32: assignment of each row, or -1. */
  rowAssign: Tensor;
  /** [R] i32: expert of each row's tile, or -1. */
  rowExpert: Tensor;
  /** [2E] i32: start and kept length of each expert's rows. */
  segments: Tensor;
  /** [E] i32: assignments routed to each expert before capacity dropping. */
  counts: Tensor;
  /** Experts per token. */
  k: number;
  /** Number of experts. */
  experts: number;
  /** Per-expert capacity; 0 when nothing is dropped. */
  capacity: number;
  /** Frees the plan's tensors. */
  dispose(): void;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

const dense = (t: Tensor): Tensor => (t.isContiguous ? t : contiguous(t));

/**
 * Top-k experts per token from selection scores `[N, E]` (f32), best first,
 * as `[N, k]` i32. With groups, only experts in each token's `topkGroups`
 * best groups compete. Not differentiable (a selection).
 */
export function routeTopK(scores: Tensor, options: RouteOptions): Tensor {
  const device = commonDevice('routeTopK', [scores], ['scores']);
  registerMoeKernels();
  if (scores.rank !== 2 || scores.dtype !== 'f32')
    throw new TypeError(
      `routeTopK: scores has shape ${shapeText(scores.shape)} and dtype ${scores.dtype}; expected [tokens, experts] f32`,
    );
  const e = scores.shape[1]!;
  const groups = options.groups ?? 1;
  const topkGroups = options.topkGroups ?? groups;
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > e)
    throw new RangeError(`routeTopK: k is ${options.k}; expected an integer in [1, ${e}]`);
  if (!Number.isInteger(groups) || groups < 1 || e % groups !== 0 || groups > MAX_GROUPS)
    throw new RangeError(
      `routeTopK: groups is ${groups}; expected a divisor of the ${e} experts, at most ${MAX_GROUPS}`,
    );
  if (!Number.isInteger(topkGroups) || topkGroups < 1 || topkGroups > groups)
    throw new RangeError(
      `routeTopK: topkGroups is ${topkGroups}; expected an integer in [1, ${groups}]`,
    );
  if (topkGroups * (e / groups) < options.k)
    throw new RangeError(
      `routeTopK: topkGroups ${topkGroups} × ${e / groups} experts per group < k ${options.k}; tokens could not pick k experts`,
    );
  const src = dense(scores);
  const [idx] = execute(
    ROUTE,
    device,
    [src],
    [{ shape: [scores.shape[0]!, options.k], dtype: 'i32' }],
    {
      k: options.k,
      groups,
      topkGroups,
      groupScore: options.groupScore ?? 'max',
    },
  );
  if (src !== scores) src.dispose();
  return idx!;
}

/**
 * Sorts assignments `idx [N, k]` (i32 expert ids) by expert on the device.
 * `capacity` (> 0) caps each expert's kept assignments (earlier tokens win);
 * 0 keeps all. Shapes depend only on (N, k, E, capacity).
 */
export function dispatchPlan(idx: Tensor, experts: number, capacity: number): DispatchPlan {
  const device = commonDevice('dispatchPlan', [idx], ['idx']);
  registerMoeKernels();
  if (idx.rank !== 2 || idx.dtype !== 'i32')
    throw new TypeError(
      `dispatchPlan: idx has shape ${shapeText(idx.shape)} and dtype ${idx.dtype}; expected [tokens, k] i32`,
    );
  if (!Number.isInteger(experts) || experts < 1)
    throw new RangeError(`dispatchPlan: experts is ${experts}; expected a positive integer`);
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new RangeError(
      `dispatchPlan: capacity is ${capacity}; expected a non-negative integer (0: no limit)`,
    );
  const nk = idx.size;
  const rows = planRows(nk, experts, capacity);
  const src = dense(idx);
  const [slot, rowAssign, rowExpert, segments, counts] = execute(
    PLAN,
    device,
    [src],
    [
      { shape: [nk], dtype: 'i32' },
      { shape: [rows], dtype: 'i32' },
      { shape: [rows], dtype: 'i32' },
      { shape: [2 * experts], dtype: 'i32' },
      { shape: [experts], dtype: 'i32' },
    ],
    { experts, capacity },
  ) as [Tensor, Tensor, Tensor, Tensor, Tensor];
  if (src !== idx) src.dispose();
  return {
    slot,
    rowAssign,
    rowExpert,
    segments,
    counts,
    k: idx.shape[1]!,
    experts,
    capacity,
    dispose() {
      for (const t of [slot, rowAssign, rowExpert, segments, counts]) t.dispose();
    },
  };
}

function rowsOp(
  op: string,
  src: Tensor,
  index: Tensor,
  weights: Tensor | null,
  outRows: number,
  k: number,
): Tensor {
  const inputs = weights ? [src, index, weights] : [src, index];
  const [out] = execute(
    op,
    src.device,
    inputs,
    [{ shape: [outRows, src.shape[1]!], dtype: 'f32' }],
    {
      k,
      weighted: weights !== null,
    },
  );
  return out!;
}

function assertRows(op: string, name: string, x: Tensor, cols?: number): void {
  if (x.rank !== 2 || x.dtype !== 'f32' || (cols !== undefined && x.shape[1] !== cols))
    throw new TypeError(
      `${op}: ${name} has shape ${shapeText(x.shape)} and dtype ${x.dtype}; expected [rows, ${cols ?? 'cols'}] f32`,
    );
}

/** Rows of `x [N, H]` in the plan's expert order: `[R, H]`, zero rows for padding. Differentiable in x. */
export function gatherRows(x: Tensor, plan: DispatchPlan): Tensor {
  commonDevice('gatherRows', [x, plan.rowAssign], ['x', 'plan']);
  assertRows('gatherRows', 'x', x);
  if (x.shape[0]! * plan.k !== plan.slot.size)
    throw new RangeError(
      `gatherRows: x has ${x.shape[0]} rows; the plan routes ${plan.slot.size / plan.k} tokens`,
    );
  const src = dense(x);
  const out = rowsOp(GATHER_ROWS, src, plan.rowAssign, null, plan.rowAssign.size, plan.k);
  if (needsGrad(x)) {
    const n = x.shape[0]!;
    record('moeGatherRows', [x], [out], [plan.slot], ([g], [slot]) => {
      const gd = dense(g!);
      const dx = rowsOp(COMBINE, gd, slot!, null, n, plan.k);
      if (gd !== g) gd.dispose();
      return [dx];
    });
  }
  if (src !== x) src.dispose();
  return out;
}

/**
 * Back to token order: `out[t] = Σ_j w[t, j]·ys[slot(t, j)]` over kept
 * assignments, `[N, H]`. Differentiable in `ys [R, H]` and `weights [N, k]`.
 */
export function combineRows(ys: Tensor, weights: Tensor, plan: DispatchPlan): Tensor {
  commonDevice('combineRows', [ys, weights, plan.slot], ['ys', 'weights', 'plan']);
  assertRows('combineRows', 'ys', ys);
  if (ys.shape[0] !== plan.rowAssign.size)
    throw new RangeError(
      `combineRows: ys has ${ys.shape[0]} rows; expected the plan's ${plan.rowAssign.size}`,
    );
  if (weights.size !== plan.slot.size || weights.dtype !== 'f32')
    throw new RangeError(
      `combineRows: weights has shape ${shapeText(weights.shape)} and dtype ${weights.dtype}; expected ${plan.slot.size} f32 values [tokens, k]`,
    );
  const y = dense(ys);
  const w = weights.isContiguous ? weights : contiguous(weights);
  const n = plan.slot.size / plan.k;
  const out = rowsOp(COMBINE, y, plan.slot, w, n, plan.k);
  if (needsGrad(ys, weights)) {
    const wShape = weights.shape;
    record(
      'moeCombine',
      [ys, weights],
      [out],
      [y, w, plan.slot, plan.rowAssign],
      ([g], [yS, wS, slot, rowAssign]) => {
        const gd = dense(g!);
        const dys = ys.requiresGrad
          ? rowsOp(GATHER_ROWS, gd, rowAssign!, wS!, rowAssign!.size, plan.k)
          : null;
        let dw: Tensor | null = null;
        if (weights.requiresGrad) {
          const [flat] = execute(
            COMBINE_WGRAD,
            gd.device,
            [gd, yS!, slot!],
            [{ shape: [slot!.size], dtype: 'f32' }],
            { k: plan.k, weighted: false },
          );
          dw = flat!.reshape(wShape);
          flat!.dispose();
        }
        if (gd !== g) gd.dispose();
        return [dys, dw];
      },
    );
  }
  if (y !== ys) y.dispose();
  if (w !== weights) w.dispose();
  return out;
}

/**
 * Each row times its expert's weight: `y[r] = x[r]·W[e(r)]ᵀ` for `x [R, In]`
 * and stacked weights `w [E, Out, In]` (Hugging Face's Linear layout), on the
 * plan's rows. Differentiable in x and w.
 */
export function groupedMatmul(x: Tensor, w: Tensor, plan: DispatchPlan): Tensor {
  const device = commonDevice('groupedMatmul', [x, w, plan.rowExpert], ['x', 'w', 'plan']);
  registerMoeKernels();
  assertRows('groupedMatmul', 'x', x);
  if (w.rank !== 3 || w.dtype !== 'f32' || w.shape[0] !== plan.experts || w.shape[2] !== x.shape[1])
    throw new RangeError(
      `groupedMatmul: w has shape ${shapeText(w.shape)} and dtype ${w.dtype}; expected [${plan.experts}, out, ${x.shape[1]}] f32`,
    );
  if (x.shape[0] !== plan.rowExpert.size)
    throw new RangeError(
      `groupedMatmul: x has ${x.shape[0]} rows; expected the plan's ${plan.rowExpert.size}`,
    );
  const xs = dense(x);
  const ws = dense(w);
  const [y] = execute(
    GROUPED_MATMUL,
    device,
    [xs, ws, plan.rowExpert],
    [{ shape: [x.shape[0]!, w.shape[1]!], dtype: 'f32' }],
    { transB: true },
  );
  if (needsGrad(x, w)) {
    const wShape = w.shape;
    record(
      'moeGroupedMatmul',
      [x, w],
      [y!],
      [xs, ws, plan.rowExpert, plan.segments],
      ([g], [xS, wS, rowExpert, segments]) => {
        const gd = dense(g!);
        const dx = x.requiresGrad
          ? execute(
              GROUPED_MATMUL,
              device,
              [gd, wS!, rowExpert!],
              [{ shape: [xS!.shape[0]!, wShape[2]!], dtype: 'f32' }],
              { transB: false },
            )[0]!
          : null;
        const dw = w.requiresGrad
          ? execute(
              GROUPED_WGRAD,
              device,
              [gd, xS!, segments!],
              [{ shape: wShape, dtype: 'f32' }],
              {},
            )[0]!
          : null;
        if (gd !== g) gd.dispose();
        return [dx, dw];
      },
    );
  }
  if (xs !== x) xs.dispose();
  if (ws !== w) ws.dispose();
  return y!;
}
