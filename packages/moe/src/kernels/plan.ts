/**
 * `moe_plan`: a stable counting sort of the token→expert assignments, on the
 * device. Inputs: `idx [N·k]` i32 (expert of each assignment `a = t·k + j`).
 * Outputs, all i32:
 *
 * - `slot [N·k]`: the row of the sorted buffer that holds assignment a, or -1
 *   when the expert's capacity was full (the token is dropped by that expert);
 * - `rowAssign [R]`: the assignment held by each row, or -1 (padding);
 * - `rowExpert [R]`: the expert whose segment a row belongs to, or -1;
 * - `segments [2E]`: start row and kept length of each expert's segment;
 * - `counts [E]`: assignments routed to each expert before dropping.
 *
 * Segments start on multiples of {@link TILE} so that every tile of the
 * grouped matmul belongs to one expert. With a capacity C, expert e's segment
 * starts at e·⌈C⌉₁₆ and keeps its first C assignments in token order; without
 * one (no-drop), segments are packed by an exclusive prefix sum of the counts.
 * Every shape is fixed by (N, k, E, C): nothing is read back.
 *
 * WebGPU: a histogram with atomics, a prefix sum over experts, then one
 * workgroup per expert ranks its assignments in order with a workgroup scan
 * (stable, so dropping is by token order as in the reference).
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
  TILE,
  WORKGROUP,
  assertContiguous,
  assertDtypes,
  bufferOf,
  dataOf,
  foldGrid,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './util.js';

/** Op name of the dispatch plan. */
export const PLAN = 'moe_plan';

/** Attributes of {@link PLAN}. */
export interface PlanAttrs {
  experts: number;
  /** Assignments an expert keeps; 0 for no limit. */
  capacity: number;
}

/** Rows of the sorted buffer for `assignments` routed among `experts` with `capacity` (0: none). */
export function planRows(assignments: number, experts: number, capacity: number): number {
  if (capacity > 0) return experts * roundUp(capacity);
  return roundUp(assignments + experts * (TILE - 1));
}

/** `n` rounded up to a multiple of {@link TILE}. */
export function roundUp(n: number): number {
  return Math.ceil(n / TILE) * TILE;
}

const FIELDS: readonly UniformField[] = [
  ['nk', 'u32'],
  ['e', 'u32'],
  ['cap', 'u32'],
  ['rows', 'u32'],
  ['idxOff', 'u32'],
];

const HEADER = uniformStruct('Params', FIELDS);

const CLEAR = /* wgsl */ `
${HEADER}
@group(0) @binding(0) var<storage, read_write> counts: array<i32>;
@group(0) @binding(1) var<storage, read_write> slot: array<i32>;
@group(0) @binding(2) var<storage, read_write> rowAssign: array<i32>;
@group(0) @binding(3) var<storage, read_write> rowExpert: array<i32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i < u.e) { counts[i] = 0; }
  if (i < u.nk) { slot[i] = -1; }
  if (i < u.rows) { rowAssign[i] = -1; rowExpert[i] = -1; }
}
`;

const HISTOGRAM = /* wgsl */ `
${HEADER}
@group(0) @binding(0) var<storage, read> idx: array<i32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<i32>>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let a = ${FLAT_INDEX};
  if (a >= u.nk) { return; }
  let e = idx[u.idxOff + a];
  if (e >= 0 && u32(e) < u.e) { atomicAdd(&counts[e], 1); }
}
`;

const OFFSETS = /* wgsl */ `
${HEADER}
@group(0) @binding(0) var<storage, read> counts: array<i32>;
@group(0) @binding(1) var<storage, read_write> segments: array<i32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(1)
fn main() {
  var run = 0u;
  let capPad = ((u.cap + ${TILE - 1}u) / ${TILE}u) * ${TILE}u;
  for (var e = 0u; e < u.e; e++) {
    let c = u32(counts[e]);
    let kept = select(c, min(c, u.cap), u.cap > 0u);
    let start = select(run, e * capPad, u.cap > 0u);
    segments[2u * e] = i32(start);
    segments[2u * e + 1u] = i32(kept);
    run += ((kept + ${TILE - 1}u) / ${TILE}u) * ${TILE}u;
  }
}
`;

const RANK = /* wgsl */ `
${HEADER}
@group(0) @binding(0) var<storage, read> idx: array<i32>;
@group(0) @binding(1) var<storage, read> segments: array<i32>;
@group(0) @binding(2) var<storage, read_write> slot: array<i32>;
@group(0) @binding(3) var<storage, read_write> rowAssign: array<i32>;
@group(0) @binding(4) var<storage, read_write> rowExpert: array<i32>;
@group(0) @binding(5) var<uniform> u: Params;

var<workgroup> scan: array<u32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = wid.x;
  let l = lid.x;
  let start = u32(segments[2u * e]);
  let kept = u32(segments[2u * e + 1u]);
  var base = 0u;
  for (var c0 = 0u; c0 < u.nk; c0 += ${WORKGROUP}u) {
    let a = c0 + l;
    var flag = 0u;
    if (a < u.nk && idx[u.idxOff + a] == i32(e)) { flag = 1u; }
    scan[l] = flag;
    workgroupBarrier();
    for (var off = 1u; off < ${WORKGROUP}u; off *= 2u) {
      var v = scan[l];
      if (l >= off) { v += scan[l - off]; }
      workgroupBarrier();
      scan[l] = v;
      workgroupBarrier();
    }
    if (flag == 1u) {
      let pos = base + scan[l] - 1u;
      if (pos < kept) {
        let r = start + pos;
        slot[a] = i32(r);
        rowAssign[r] = i32(a);
      }
    }
    base += scan[${WORKGROUP - 1}u];
    workgroupBarrier();
  }
  let end = start + ((kept + ${TILE - 1}u) / ${TILE}u) * ${TILE}u;
  for (var r = start + l; r < end; r += ${WORKGROUP}u) { rowExpert[r] = i32(e); }
}
`;

/** Registers the WebGPU and reference kernels of {@link PLAN}. */
export function registerPlanKernels(): void {
  registerKernel<WebGpuBackend, PlanAttrs>(
    PLAN,
    'webgpu',
    (b, [idx], [slot, rowAssign, rowExpert, segments, counts], a) => {
      assertDtypes(PLAN, [idx!], ['i32']);
      assertContiguous(PLAN, [idx!]);
      const nk = idx!.shape.reduce((s, d) => s * d, 1);
      const rows = rowAssign!.shape[0]!;
      const params = packUniforms(FIELDS, {
        nk,
        e: a.experts,
        cap: a.capacity,
        rows,
        idxOff: idx!.offset,
      });
      const buf = (v: typeof idx): GPUBuffer => bufferOf(v!, PLAN);
      b.dispatch({
        pipeline: b.pipeline(CLEAR),
        buffers: [buf(counts), buf(slot), buf(rowAssign), buf(rowExpert)],
        params,
        grid: foldGrid(b, Math.ceil(Math.max(nk, rows, a.experts) / WORKGROUP)),
      });
      b.dispatch({
        pipeline: b.pipeline(HISTOGRAM),
        buffers: [buf(idx), buf(counts)],
        params,
        grid: foldGrid(b, Math.ceil(nk / WORKGROUP)),
      });
      b.dispatch({
        pipeline: b.pipeline(OFFSETS),
        buffers: [buf(counts), buf(segments)],
        params,
        grid: [1],
      });
      b.dispatch({
        pipeline: b.pipeline(RANK),
        buffers: [buf(idx), buf(segments), buf(slot), buf(rowAssign), buf(rowExpert)],
        params,
        grid: [a.experts],
      });
    },
  );

  registerKernel<Backend, PlanAttrs>(
    PLAN,
    'cpu',
    (_b, [idx], [slot, rowAssign, rowExpert, segments, counts], a) => {
      assertDtypes(PLAN, [idx!], ['i32']);
      assertContiguous(PLAN, [idx!]);
      const ids = dataOf(idx!, PLAN);
      const nk = idx!.shape.reduce((s, d) => s * d, 1);
      const rows = rowAssign!.shape[0]!;
      const [sl, ra, re, seg, cnt] = [slot, rowAssign, rowExpert, segments, counts].map((v) =>
        dataOf(v!, PLAN),
      ) as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
      cnt.fill(0, 0, a.experts);
      sl.fill(-1, 0, nk);
      ra.fill(-1, 0, rows);
      re.fill(-1, 0, rows);
      for (let i = 0; i < nk; i++) {
        const e = ids[idx!.offset + i]!;
        if (e >= 0 && e < a.experts) cnt[e]!++;
      }
      let run = 0;
      for (let e = 0; e < a.experts; e++) {
        const kept = a.capacity > 0 ? Math.min(cnt[e]!, a.capacity) : cnt[e]!;
        const start = a.capacity > 0 ? e * roundUp(a.capacity) : run;
        seg[2 * e] = start;
        seg[2 * e + 1] = kept;
        run += roundUp(kept);
        for (let r = start; r < start + roundUp(kept); r++) re[r] = e;
      }
      const filled = new Int32Array(a.experts);
      for (let i = 0; i < nk; i++) {
        const e = ids[idx!.offset + i]!;
        if (e < 0 || e >= a.experts) continue;
        const pos = filled[e]!++;
        if (pos < seg[2 * e + 1]!) {
          sl[i] = seg[2 * e]! + pos;
          ra[seg[2 * e]! + pos] = i;
        }
      }
    },
  );
}
