/**
 * In-place gradient scaling whose factor is computed on the device from norms
 * that never left it. `optim_clip_scale`: `g *= min(1, maxNorm / (total + 1e-6))`
 * (PyTorch's `clip_grad_norm_`). `optim_agc_scale`: adaptive clipping of one
 * tensor, `g *= c·max(‖p‖, eps) / ‖g‖` when `‖g‖ > c·max(‖p‖, eps)`.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import { dataOf, floatStore } from './cpu-util.js';
import {
  FLAT_INDEX,
  WORKGROUP,
  assertBindable,
  bufferOf,
  foldGrid,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './webgpu-util.js';

/** Op name of global-norm clipping's scale. */
export const CLIP_SCALE = 'optim_clip_scale';
/** Op name of adaptive clipping's per-tensor scale. */
export const AGC_SCALE = 'optim_agc_scale';

/** Attributes of {@link CLIP_SCALE}: inputs `[totalNorm]`, target `[grad]`. */
export interface ClipScaleAttrs {
  maxNorm: number;
}

/** Attributes of {@link AGC_SCALE}: inputs `[paramNorms, gradNorms]`, target `[grad]`. */
export interface AgcScaleAttrs {
  /** Index of this tensor in the norm tensors. */
  slot: number;
  clip: number;
  eps: number;
}

/** Guards the division when a gradient is all zeros (timm's AGC uses the same floor). */
const MIN_GRAD_NORM = 1e-6;

const CLIP_FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['gOff', 'u32'],
  ['tOff', 'u32'],
  ['maxNorm', 'f32'],
];

const CLIP_SHADER = /* wgsl */ `
${uniformStruct('Params', CLIP_FIELDS)}
@group(0) @binding(0) var<storage, read> total: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let coef = min(u.maxNorm / (total[u.tOff] + 1e-6), 1.0);
  g[u.gOff + i] = g[u.gOff + i] * coef;
}
`;

const AGC_FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['gOff', 'u32'],
  ['pnOff', 'u32'],
  ['gnOff', 'u32'],
  ['clip', 'f32'],
  ['eps', 'f32'],
];

const AGC_SHADER = /* wgsl */ `
${uniformStruct('Params', AGC_FIELDS)}
@group(0) @binding(0) var<storage, read> pnorms: array<f32>;
@group(0) @binding(1) var<storage, read> gnorms: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let limit = u.clip * max(pnorms[u.pnOff], u.eps);
  let gn = gnorms[u.gnOff];
  let scale = select(1.0, limit / max(gn, ${MIN_GRAD_NORM}), gn > limit);
  g[u.gOff + i] = g[u.gOff + i] * scale;
}
`;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

function assertF32(op: string, dtypes: readonly string[]): void {
  dtypes.forEach((d, i) => {
    if (d !== 'f32') throw new TypeError(`${op}: tensor ${i} has dtype ${d}; expected f32`);
  });
}

/** Registers the WebGPU and reference kernels of {@link CLIP_SCALE} and {@link AGC_SCALE}. */
export function registerScaleKernels(): void {
  registerKernel<WebGpuBackend, ClipScaleAttrs>(CLIP_SCALE, 'webgpu', (b, [t], [g], a) => {
    assertF32(CLIP_SCALE, [t!.dtype, g!.dtype]);
    const n = sizeOf(g!.shape);
    if (n === 0) return;
    assertBindable(b, g!, CLIP_SCALE, 'the gradient');
    b.dispatch({
      pipeline: b.pipeline(CLIP_SHADER),
      buffers: [bufferOf(t!, CLIP_SCALE), bufferOf(g!, CLIP_SCALE)],
      params: packUniforms(CLIP_FIELDS, {
        n,
        gOff: g!.offset,
        tOff: t!.offset,
        maxNorm: a.maxNorm,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });

  registerKernel<WebGpuBackend, AgcScaleAttrs>(AGC_SCALE, 'webgpu', (b, [pn, gn], [g], a) => {
    assertF32(AGC_SCALE, [pn!.dtype, gn!.dtype, g!.dtype]);
    const n = sizeOf(g!.shape);
    if (n === 0) return;
    assertBindable(b, g!, AGC_SCALE, 'the gradient');
    b.dispatch({
      pipeline: b.pipeline(AGC_SHADER),
      buffers: [pn!, gn!, g!].map((t) => bufferOf(t, AGC_SCALE)),
      params: packUniforms(AGC_FIELDS, {
        n,
        gOff: g!.offset,
        pnOff: pn!.offset + a.slot,
        gnOff: gn!.offset + a.slot,
        clip: a.clip,
        eps: a.eps,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });

  registerKernel<Backend, ClipScaleAttrs>(CLIP_SCALE, 'cpu', (b, [tv], [gv], a) => {
    assertF32(CLIP_SCALE, [tv!.dtype, gv!.dtype]);
    const store = floatStore(b);
    const total = dataOf(tv!, CLIP_SCALE)[tv!.offset]!;
    const coef = store(Math.min(store(a.maxNorm / store(total + 1e-6)), 1));
    const g = dataOf(gv!, CLIP_SCALE);
    const n = sizeOf(gv!.shape);
    for (let i = 0; i < n; i++) g[gv!.offset + i] = store(g[gv!.offset + i]! * coef);
  });

  registerKernel<Backend, AgcScaleAttrs>(AGC_SCALE, 'cpu', (b, [pv, nv], [gv], a) => {
    assertF32(AGC_SCALE, [pv!.dtype, nv!.dtype, gv!.dtype]);
    const store = floatStore(b);
    const limit = a.clip * Math.max(dataOf(pv!, AGC_SCALE)[pv!.offset + a.slot]!, a.eps);
    const gn = dataOf(nv!, AGC_SCALE)[nv!.offset + a.slot]!;
    const scale = gn > limit ? limit / Math.max(gn, MIN_GRAD_NORM) : 1;
    const g = dataOf(gv!, AGC_SCALE);
    const n = sizeOf(gv!.shape);
    for (let i = 0; i < n; i++) g[gv!.offset + i] = store(g[gv!.offset + i]! * scale);
  });
}
