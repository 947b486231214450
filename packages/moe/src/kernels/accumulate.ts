/**
 * In-place kernels that keep routing state on the device between steps:
 *
 * - `moe_load_accumulate` (inputs counts [E] i32, segments [2E] i32; target
 *   acc [E+2] f32): acc[e] += counts[e]; acc[E] += dropped assignments
 *   (routed − kept); acc[E+1] += assignments (attribute `assignments`).
 * - `moe_bias_update` (input load [E+2] f32; target bias [E] f32):
 *   bias[e] += γ·sign(mean load − load[e]) (DeepSeek-V3's auxiliary-loss-free
 *   balancing); nothing moves when no token was routed.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import {
  assertContiguous,
  assertDtypes,
  bufferOf,
  dataOf,
  floatStore,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './util.js';

/** Op name of the load accumulation. */
export const LOAD_ACCUMULATE = 'moe_load_accumulate';
/** Op name of the routing-bias update. */
export const BIAS_UPDATE = 'moe_bias_update';

/** Attributes of {@link LOAD_ACCUMULATE}. */
export interface LoadAccumulateAttrs {
  assignments: number;
}

/** Attributes of {@link BIAS_UPDATE}. */
export interface BiasUpdateAttrs {
  rate: number;
}

const ACC_FIELDS: readonly UniformField[] = [
  ['e', 'u32'],
  ['nk', 'u32'],
  ['cOff', 'u32'],
  ['sOff', 'u32'],
  ['aOff', 'u32'],
];

const ACC_SHADER = /* wgsl */ `
${uniformStruct('Params', ACC_FIELDS)}
@group(0) @binding(0) var<storage, read> counts: array<i32>;
@group(0) @binding(1) var<storage, read> segments: array<i32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(1)
fn main() {
  var dropped = 0;
  for (var e = 0u; e < u.e; e++) {
    let c = counts[u.cOff + e];
    acc[u.aOff + e] += f32(c);
    dropped += c - segments[u.sOff + 2u * e + 1u];
  }
  acc[u.aOff + u.e] += f32(dropped);
  acc[u.aOff + u.e + 1u] += f32(u.nk);
}
`;

const BIAS_FIELDS: readonly UniformField[] = [
  ['e', 'u32'],
  ['lOff', 'u32'],
  ['bOff', 'u32'],
  ['rate', 'f32'],
];

const BIAS_SHADER = /* wgsl */ `
${uniformStruct('Params', BIAS_FIELDS)}
@group(0) @binding(0) var<storage, read> load: array<f32>;
@group(0) @binding(1) var<storage, read_write> bias: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= u.e) { return; }
  var total = 0.0;
  for (var j = 0u; j < u.e; j++) { total += load[u.lOff + j]; }
  let mean = total / f32(u.e);
  bias[u.bOff + e] += u.rate * sign(mean - load[u.lOff + e]);
}
`;

/** Registers the WebGPU and reference kernels of the accumulation and bias update. */
export function registerAccumulateKernels(): void {
  registerKernel<WebGpuBackend, LoadAccumulateAttrs>(
    LOAD_ACCUMULATE,
    'webgpu',
    (b, [counts, seg], [acc], a) => {
      assertDtypes(LOAD_ACCUMULATE, [counts!, seg!, acc!], ['i32', 'i32', 'f32']);
      b.dispatch({
        pipeline: b.pipeline(ACC_SHADER),
        buffers: [counts!, seg!, acc!].map((v) => bufferOf(v, LOAD_ACCUMULATE)),
        params: packUniforms(ACC_FIELDS, {
          e: counts!.shape[0]!,
          nk: a.assignments,
          cOff: counts!.offset,
          sOff: seg!.offset,
          aOff: acc!.offset,
        }),
        grid: [1],
      });
    },
  );

  registerKernel<Backend, LoadAccumulateAttrs>(
    LOAD_ACCUMULATE,
    'cpu',
    (b, [counts, seg], [acc], a) => {
      assertContiguous(LOAD_ACCUMULATE, [counts!, seg!, acc!]);
      const store = floatStore(b);
      const c = dataOf(counts!, LOAD_ACCUMULATE);
      const s = dataOf(seg!, LOAD_ACCUMULATE);
      const out = dataOf(acc!, LOAD_ACCUMULATE);
      const e = counts!.shape[0]!;
      let dropped = 0;
      for (let j = 0; j < e; j++) {
        const v = c[counts!.offset + j]!;
        out[acc!.offset + j] = store(out[acc!.offset + j]! + v);
        dropped += v - s[seg!.offset + 2 * j + 1]!;
      }
      out[acc!.offset + e] = store(out[acc!.offset + e]! + dropped);
      out[acc!.offset + e + 1] = store(out[acc!.offset + e + 1]! + a.assignments);
    },
  );

  registerKernel<WebGpuBackend, BiasUpdateAttrs>(BIAS_UPDATE, 'webgpu', (b, [load], [bias], a) => {
    assertDtypes(BIAS_UPDATE, [load!, bias!], ['f32', 'f32']);
    const e = bias!.shape[0]!;
    b.dispatch({
      pipeline: b.pipeline(BIAS_SHADER),
      buffers: [bufferOf(load!, BIAS_UPDATE), bufferOf(bias!, BIAS_UPDATE)],
      params: packUniforms(BIAS_FIELDS, {
        e,
        lOff: load!.offset,
        bOff: bias!.offset,
        rate: a.rate,
      }),
      grid: [Math.ceil(e / 64)],
    });
  });

  registerKernel<Backend, BiasUpdateAttrs>(BIAS_UPDATE, 'cpu', (b, [load], [bias], a) => {
    assertContiguous(BIAS_UPDATE, [load!, bias!]);
    const store = floatStore(b);
    const l = dataOf(load!, BIAS_UPDATE);
    const out = dataOf(bias!, BIAS_UPDATE);
    const e = bias!.shape[0]!;
    let total = 0;
    for (let j = 0; j < e; j++) total = store(total + l[load!.offset + j]!);
    const mean = store(total / e);
    for (let j = 0; j < e; j++)
      out[bias!.offset + j] = store(
        out[bias!.offset + j]! + a.rate * Math.sign(mean - l[load!.offset + j]!),
      );
  });
}
