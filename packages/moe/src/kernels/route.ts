/**
 * `moe_route`: top-k expert selection per token from selection scores
 * `[N, E]`, optionally limited to the best `topkGroups` of `groups` equal
 * expert groups (DeepSeek-V2/V3 group-limited routing). Output `[N, k]` i32,
 * best first; ties go to the lower index, on every backend.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
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

/** Op name of routing. */
export const ROUTE = 'moe_route';

/** How a group is scored before group-limited selection. */
export type GroupScore = 'max' | 'top2sum';

/** Attributes of {@link ROUTE}. */
export interface RouteAttrs {
  k: number;
  /** Number of expert groups (1: no group limit). */
  groups: number;
  /** Groups kept per token. */
  topkGroups: number;
  groupScore: GroupScore;
}

/** Most groups the WebGPU kernel tracks per token (its private array size). */
export const MAX_GROUPS = 64;

const FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['e', 'u32'],
  ['k', 'u32'],
  ['groups', 'u32'],
  ['topkGroups', 'u32'],
  ['top2', 'u32'],
  ['sOff', 'u32'],
];

const SHADER = /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> s: array<f32>;
@group(0) @binding(1) var<storage, read_write> idx: array<i32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = ${FLAT_INDEX};
  if (t >= u.n) { return; }
  let base = u.sOff + t * u.e;
  let per = u.e / u.groups;
  var allowed: array<bool, ${MAX_GROUPS}>;
  for (var g = 0u; g < u.groups; g++) { allowed[g] = u.groups == 1u; }
  if (u.groups > 1u) {
    var gscore: array<f32, ${MAX_GROUPS}>;
    for (var g = 0u; g < u.groups; g++) {
      var m1 = -3.4e38;
      var m2 = -3.4e38;
      for (var j = 0u; j < per; j++) {
        let v = s[base + g * per + j];
        if (v > m1) { m2 = m1; m1 = v; } else if (v > m2) { m2 = v; }
      }
      gscore[g] = select(m1, m1 + m2, u.top2 == 1u);
    }
    for (var r = 0u; r < u.topkGroups; r++) {
      var best = 0u;
      var bestV = -3.4e38;
      var found = false;
      for (var g = 0u; g < u.groups; g++) {
        if (!allowed[g] && (!found || gscore[g] > bestV)) { best = g; bestV = gscore[g]; found = true; }
      }
      allowed[best] = true;
    }
  }
  for (var r = 0u; r < u.k; r++) {
    var best = -1;
    var bestV = -3.4e38;
    for (var e = 0u; e < u.e; e++) {
      if (!allowed[e / per]) { continue; }
      var taken = false;
      for (var q = 0u; q < r; q++) { if (idx[t * u.k + q] == i32(e)) { taken = true; } }
      let v = s[base + e];
      if (!taken && (best < 0 || v > bestV)) { best = i32(e); bestV = v; }
    }
    idx[t * u.k + r] = best;
  }
}
`;

/** Reference routing of one token's scores (also the oracle of the WebGPU kernel). */
export function routeToken(scores: ArrayLike<number>, a: RouteAttrs): number[] {
  const e = scores.length;
  const per = e / a.groups;
  const allowed = new Array<boolean>(a.groups).fill(a.groups === 1);
  if (a.groups > 1) {
    const gscore = Array.from({ length: a.groups }, (_, g) => {
      const vals = Array.from({ length: per }, (_, j) => scores[g * per + j]!).sort(
        (x, y) => y - x,
      );
      return a.groupScore === 'top2sum' && per > 1 ? vals[0]! + vals[1]! : vals[0]!;
    });
    for (let r = 0; r < a.topkGroups; r++) {
      let best = -1;
      for (let g = 0; g < a.groups; g++)
        if (!allowed[g] && (best < 0 || gscore[g]! > gscore[best]!)) best = g;
      allowed[best] = true;
    }
  }
  const chosen: number[] = [];
  for (let r = 0; r < a.k; r++) {
    let best = -1;
    for (let j = 0; j < e; j++) {
      if (!allowed[Math.floor(j / per)] || chosen.includes(j)) continue;
      if (best < 0 || scores[j]! > scores[best]!) best = j;
    }
    chosen.push(best);
  }
  return chosen;
}

/** Registers the WebGPU and reference kernels of {@link ROUTE}. */
export function registerRouteKernels(): void {
  registerKernel<WebGpuBackend, RouteAttrs>(ROUTE, 'webgpu', (b, [s], [idx], a) => {
    assertDtypes(ROUTE, [s!, idx!], ['f32', 'i32']);
    assertContiguous(ROUTE, [s!]);
    const [n, e] = s!.shape as [number, number];
    if (n === 0) return;
    b.dispatch({
      pipeline: b.pipeline(SHADER),
      buffers: [bufferOf(s!, ROUTE), bufferOf(idx!, ROUTE)],
      params: packUniforms(FIELDS, {
        n,
        e,
        k: a.k,
        groups: a.groups,
        topkGroups: a.topkGroups,
        top2: a.groupScore === 'top2sum' && e / a.groups > 1 ? 1 : 0,
        sOff: s!.offset,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });

  registerKernel<Backend, RouteAttrs>(ROUTE, 'cpu', (_b, [s], [idx], a) => {
    assertDtypes(ROUTE, [s!, idx!], ['f32', 'i32']);
    assertContiguous(ROUTE, [s!]);
    const [n, e] = s!.shape as [number, number];
    const src = dataOf(s!, ROUTE);
    const out = dataOf(idx!, ROUTE);
    for (let t = 0; t < n; t++) {
      const row = src.subarray(s!.offset + t * e, s!.offset + (t + 1) * e);
      routeToken(row, a).forEach((j, r) => (out[idx!.offset + t * a.k + r] = j));
    }
  });
}
