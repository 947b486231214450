/**
 * Kernels of the loss scaler's overflow check. `precision_unscale_check`
 * multiplies one f32 gradient in place by 1/scale and, when any value is not
 * finite (before or after unscaling), sets that gradient's flag; the flags of
 * all gradients are then summed by `precision_count_flags` into one u32 that
 * the host reads: one readback per step, whatever the number of tensors.
 * Finiteness is tested on the bit pattern (exponent all ones), because WGSL
 * lets compilers assume that floats are finite, which can fold `x != x` away.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import { registerWasmFallbacks } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
  WORKGROUP,
  bufferOf,
  dataOf,
  floatStore,
  foldGrid,
  packUniforms,
  sizeOf,
  uniformStruct,
  type UniformField,
} from './gpu-util.js';

/** In-place unscale + finite check: inputs `[]`, targets `[grad (f32), flags (u32)]`. */
export const UNSCALE_CHECK = 'precision_unscale_check';
/** Sum of flags: inputs `[flags]`, output `[count]` (u32, shape [1]). */
export const COUNT_FLAGS = 'precision_count_flags';

/** Attributes of {@link UNSCALE_CHECK}. */
export interface UnscaleCheckAttrs {
  /** The factor gradients are multiplied by (1 / loss scale; 1 checks without scaling). */
  invScale: number;
  /** This gradient's slot in the flags tensor. */
  slot: number;
}

const UNSCALE_FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['gOff', 'u32'],
  ['slot', 'u32'],
  ['inv', 'f32'],
];

const UNSCALE_SHADER = /* wgsl */ `
${uniformStruct('Params', UNSCALE_FIELDS)}
@group(0) @binding(0) var<storage, read_write> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> u: Params;
var<workgroup> bad: atomic<u32>;

fn nonfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = ${FLAT_INDEX};
  if (i < u.n) {
    let v = g[u.gOff + i];
    let w = v * u.inv;
    g[u.gOff + i] = w;
    if (nonfinite(v) || nonfinite(w)) { atomicOr(&bad, 1u); }
  }
  workgroupBarrier();
  if (lid == 0u && atomicLoad(&bad) != 0u) { atomicOr(&flags[u.slot], 1u); }
}
`;

const COUNT_SHADER = /* wgsl */ `
struct Params { n: u32, off: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> flags: array<u32>;
@group(0) @binding(1) var<storage, read_write> count: array<u32>;
@group(0) @binding(2) var<uniform> u: Params;
var<workgroup> partial: array<u32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var c = 0u;
  for (var i = lid; i < u.n; i = i + ${WORKGROUP}u) { c = c + select(0u, 1u, flags[u.off + i] != 0u); }
  partial[lid] = c;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { count[0] = partial[0]; }
}
`;

let registered = false;

/** Registers {@link UNSCALE_CHECK} and {@link COUNT_FLAGS} for `webgpu` and `cpu` (idempotent). */
export function registerGradKernels(): void {
  if (registered) return;
  registered = true;
  registerKernel<WebGpuBackend, UnscaleCheckAttrs>(UNSCALE_CHECK, 'webgpu', (b, _in, [g, f], a) => {
    const n = sizeOf(g!.shape);
    if (n === 0) return;
    b.dispatch({
      pipeline: b.pipeline(UNSCALE_SHADER),
      buffers: [bufferOf(g!, UNSCALE_CHECK), bufferOf(f!, UNSCALE_CHECK)],
      params: packUniforms(UNSCALE_FIELDS, {
        n,
        gOff: g!.offset,
        slot: f!.offset + a.slot,
        inv: a.invScale,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });
  registerKernel<WebGpuBackend, unknown>(COUNT_FLAGS, 'webgpu', (b, [f], [c]) => {
    b.dispatch({
      pipeline: b.pipeline(COUNT_SHADER),
      buffers: [bufferOf(f!, COUNT_FLAGS), bufferOf(c!, COUNT_FLAGS)],
      params: packUniforms(
        [
          ['n', 'u32'],
          ['off', 'u32'],
        ],
        { n: sizeOf(f!.shape), off: f!.offset },
      ),
      grid: [1],
    });
  });
  registerKernel<Backend, UnscaleCheckAttrs>(UNSCALE_CHECK, 'cpu', (b, _in, [gv, fv], a) => {
    const store = floatStore(b);
    const g = dataOf(gv!, UNSCALE_CHECK);
    const f = dataOf(fv!, UNSCALE_CHECK);
    const inv = Math.fround(a.invScale);
    let bad = false;
    for (let i = 0; i < sizeOf(gv!.shape); i++) {
      const v = g[gv!.offset + i]!;
      const w = store(v * inv);
      g[gv!.offset + i] = w;
      if (!Number.isFinite(v) || !Number.isFinite(w)) bad = true;
    }
    if (bad) f[fv!.offset + a.slot] = 1;
  });
  registerKernel<Backend, unknown>(COUNT_FLAGS, 'cpu', (_b, [fv], [cv]) => {
    const f = dataOf(fv!, COUNT_FLAGS);
    let c = 0;
    for (let i = 0; i < sizeOf(fv!.shape); i++) if (f[fv!.offset + i] !== 0) c++;
    dataOf(cv!, COUNT_FLAGS)[cv!.offset] = c;
  });
  // The reference kernels run unchanged on the WebAssembly backend's storage.
  registerWasmFallbacks();
}
