/**
 * Moving rows between token order and the expert-sorted buffer of a plan
 * (see plan.ts), without atomics, so results are deterministic:
 *
 * - `moe_gather_rows` (x [N,H], rowAssign [R] (, w [N·k])) → [R,H]:
 *   row r = (w[a]·) x[a / k] for a = rowAssign[r], or 0 for padding;
 * - `moe_combine` (ys [R,H], slot [N·k] (, w [N·k])) → [N,H]:
 *   out[t] = Σ_j (w[t·k+j]·) ys[slot[t·k+j]] over kept assignments;
 * - `moe_combine_wgrad` (g [N,H], ys [R,H], slot [N·k]) → [N·k]:
 *   dw[a] = ⟨g[a / k], ys[slot[a]]⟩, or 0 for a dropped assignment.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
  WORKGROUP,
  assertContiguous,
  assertDtypes,
  bufferOf,
  dataOf,
  floatStore,
  foldGrid,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './util.js';

/** Op name of the gather into expert order. */
export const GATHER_ROWS = 'moe_gather_rows';
/** Op name of the weighted combine back to token order. */
export const COMBINE = 'moe_combine';
/** Op name of the combine's gradient with respect to its weights. */
export const COMBINE_WGRAD = 'moe_combine_wgrad';

/** Attributes of the row kernels. */
export interface RowAttrs {
  /** Experts per token. */
  k: number;
  /** Whether a weight input follows the index input. */
  weighted: boolean;
}

const FIELDS: readonly UniformField[] = [
  ['total', 'u32'],
  ['h', 'u32'],
  ['k', 'u32'],
  ['xOff', 'u32'],
  ['iOff', 'u32'],
  ['wOff', 'u32'],
];

/** Bindings after the two inputs: the optional weights, the output and the uniforms. */
const outputBindings = (weighted: boolean): string =>
  weighted
    ? `@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;`
    : `@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;`;

const gatherShader = (weighted: boolean): string => /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> rowAssign: array<i32>;
${outputBindings(weighted)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.total) { return; }
  let r = i / u.h;
  let c = i % u.h;
  let a = rowAssign[u.iOff + r];
  var v = 0.0;
  if (a >= 0) {
    v = x[u.xOff + (u32(a) / u.k) * u.h + c]${weighted ? ' * w[u.wOff + u32(a)]' : ''};
  }
  out[i] = v;
}
`;

const combineShader = (weighted: boolean): string => /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> ys: array<f32>;
@group(0) @binding(1) var<storage, read> slot: array<i32>;
${outputBindings(weighted)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.total) { return; }
  let t = i / u.h;
  let c = i % u.h;
  var acc = 0.0;
  for (var j = 0u; j < u.k; j++) {
    let a = t * u.k + j;
    let r = slot[u.iOff + a];
    if (r >= 0) {
      acc += ys[u.xOff + u32(r) * u.h + c]${weighted ? ' * w[u.wOff + a]' : ''};
    }
  }
  out[i] = acc;
}
`;

const WGRAD_FIELDS: readonly UniformField[] = [
  ['nk', 'u32'],
  ['h', 'u32'],
  ['k', 'u32'],
  ['gOff', 'u32'],
  ['yOff', 'u32'],
  ['sOff', 'u32'],
];

// One invocation per assignment, no barriers (they are thread switches on CPU adapters).
const WGRAD_SHADER = /* wgsl */ `
${uniformStruct('Params', WGRAD_FIELDS)}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> slot: array<i32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let a = ${FLAT_INDEX};
  if (a >= u.nk) { return; }
  let r = slot[u.sOff + a];
  var acc = 0.0;
  if (r >= 0) {
    let gb = u.gOff + (a / u.k) * u.h;
    let yb = u.yOff + u32(r) * u.h;
    for (var c = 0u; c < u.h; c++) { acc = fma(g[gb + c], ys[yb + c], acc); }
  }
  dw[a] = acc;
}
`;

/** Registers the WebGPU and reference kernels of the row ops. */
export function registerRowKernels(): void {
  for (const [op, shader] of [
    [GATHER_ROWS, gatherShader],
    [COMBINE, combineShader],
  ] as const) {
    registerKernel<WebGpuBackend, RowAttrs>(op, 'webgpu', (b, inputs, [out], a) => {
      const [x, index, w] = inputs;
      assertDtypes(op, a.weighted ? [x!, index!, w!] : [x!, index!], ['f32', 'i32', 'f32']);
      assertContiguous(op, inputs);
      const total = out!.shape[0]! * out!.shape[1]!;
      if (total === 0) return;
      b.dispatch({
        pipeline: b.pipeline(shader(a.weighted)),
        buffers: [...inputs, out!].map((v) => bufferOf(v, op)),
        params: packUniforms(FIELDS, {
          total,
          h: out!.shape[1]!,
          k: a.k,
          xOff: x!.offset,
          iOff: index!.offset,
          wOff: w?.offset ?? 0,
        }),
        grid: foldGrid(b, Math.ceil(total / WORKGROUP)),
      });
    });
  }

  registerKernel<Backend, RowAttrs>(GATHER_ROWS, 'cpu', (b, [x, ra, w], [out], a) => {
    assertContiguous(GATHER_ROWS, [x!, ra!, ...(w ? [w] : [])]);
    const store = floatStore(b);
    const [rows, h] = out!.shape as [number, number];
    const xs = dataOf(x!, GATHER_ROWS);
    const as = dataOf(ra!, GATHER_ROWS);
    const ws = a.weighted ? dataOf(w!, GATHER_ROWS) : null;
    const o = dataOf(out!, GATHER_ROWS);
    for (let r = 0; r < rows; r++) {
      const asg = as[ra!.offset + r]!;
      const scale = asg >= 0 && ws ? ws[w!.offset + asg]! : 1;
      for (let c = 0; c < h; c++) {
        o[r * h + c] = asg < 0 ? 0 : store(xs[x!.offset + Math.floor(asg / a.k) * h + c]! * scale);
      }
    }
  });

  registerKernel<Backend, RowAttrs>(COMBINE, 'cpu', (b, [ys, slot, w], [out], a) => {
    assertContiguous(COMBINE, [ys!, slot!, ...(w ? [w] : [])]);
    const store = floatStore(b);
    const [n, h] = out!.shape as [number, number];
    const y = dataOf(ys!, COMBINE);
    const sl = dataOf(slot!, COMBINE);
    const ws = a.weighted ? dataOf(w!, COMBINE) : null;
    const o = dataOf(out!, COMBINE);
    for (let t = 0; t < n; t++) {
      for (let c = 0; c < h; c++) {
        let acc = 0;
        for (let j = 0; j < a.k; j++) {
          const asg = t * a.k + j;
          const r = sl[slot!.offset + asg]!;
          if (r < 0) continue;
          const scale = ws ? ws[w!.offset + asg]! : 1;
          acc = store(acc + store(y[ys!.offset + r * h + c]! * scale));
        }
        o[t * h + c] = acc;
      }
    }
  });

  registerKernel<WebGpuBackend, RowAttrs>(COMBINE_WGRAD, 'webgpu', (b, [g, ys, slot], [dw], a) => {
    assertDtypes(COMBINE_WGRAD, [g!, ys!, slot!], ['f32', 'f32', 'i32']);
    assertContiguous(COMBINE_WGRAD, [g!, ys!, slot!]);
    const nk = dw!.shape[0]!;
    if (nk === 0) return;
    b.dispatch({
      pipeline: b.pipeline(WGRAD_SHADER),
      buffers: [g!, ys!, slot!, dw!].map((v) => bufferOf(v, COMBINE_WGRAD)),
      params: packUniforms(WGRAD_FIELDS, {
        nk,
        h: g!.shape[1]!,
        k: a.k,
        gOff: g!.offset,
        yOff: ys!.offset,
        sOff: slot!.offset,
      }),
      grid: foldGrid(b, Math.ceil(nk / WORKGROUP)),
    });
  });

  registerKernel<Backend, RowAttrs>(COMBINE_WGRAD, 'cpu', (b, [g, ys, slot], [dw], a) => {
    assertContiguous(COMBINE_WGRAD, [g!, ys!, slot!]);
    const store = floatStore(b);
    const h = g!.shape[1]!;
    const gs = dataOf(g!, COMBINE_WGRAD);
    const y = dataOf(ys!, COMBINE_WGRAD);
    const sl = dataOf(slot!, COMBINE_WGRAD);
    const o = dataOf(dw!, COMBINE_WGRAD);
    for (let asg = 0; asg < dw!.shape[0]!; asg++) {
      const r = sl[slot!.offset + asg]!;
      let acc = 0;
      if (r >= 0) {
        const t = Math.floor(asg / a.k);
        for (let c = 0; c < h; c++)
          acc = store(acc + store(gs[g!.offset + t * h + c]! * y[ys!.offset + r * h + c]!));
      }
      o[asg] = acc;
    }
  });
}
