/**
 * WebGPU kernels of concat and pad. concat encodes one dispatch per input (each
 * copies its strided input into its slab of the output), so any number of inputs
 * fits the binding limits; pad runs one invocation per output element.
 */
import { computeType } from '../../dtype.js';
import { f32Bits } from '../../half.js';
import { registerKernel } from '../../registry.js';
import { contiguousStrides, sizeOf } from '../../shape.js';
import { gridFor, WORKGROUP } from './elementwise-codegen.js';
import {
  LINEAR_ID,
  assertNotHalf,
  at,
  bufferOf,
  loadAs,
  packUniforms,
  unravelCode,
} from './indexing-kernels.js';
import type { WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, storageType, storeExpr } from './wgsl-dtype.js';

registerKernel<WebGpuBackend, { axis: number }>(
  'concat',
  'webgpu',
  (b, inputs, [out], { axis }) => {
    assertNotHalf('concat', out!);
    const rank = out!.shape.length;
    const os = contiguousStrides(out!.shape);
    const t = computeType(out!.dtype);
    let start = 0;
    for (const x of inputs) {
      const n = sizeOf(x.shape);
      const slabStart = start;
      start += x.shape[axis]!;
      if (n === 0) continue;
      const u = packUniforms(
        [
          ['n', n],
          ['xoff', x.offset],
          ['ooff', slabStart * os[axis]!],
        ],
        [
          ['shape', x.shape],
          ['xs', x.strides],
          ['os', os],
        ],
        rank,
      );
      const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out!.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = ${LINEAR_ID};
  if (e >= p.n) { return; }
  var ox = p.xoff;
  var oo = p.ooff;
  ${unravelCode('e', rank, 'shape', [
    ['ox', 'xs'],
    ['oo', 'os'],
  ])}
  let v = ${loadAs('x', x.dtype, 'ox', t)};
  out[oo] = ${storeExpr(out!.dtype, 'v', t)};
}`;
      b.dispatch({
        pipeline: b.pipeline(code),
        buffers: [bufferOf(x), bufferOf(out!)],
        params: u.words.buffer,
        grid: gridFor(b, n),
      });
    }
  },
);

registerKernel<WebGpuBackend, { before: number[]; value: number }>(
  'pad',
  'webgpu',
  (b, [x], [out], { before, value }) => {
    const n = sizeOf(out!.shape);
    if (n === 0) return;
    assertNotHalf('pad', out!);
    const rank = out!.shape.length;
    const t = computeType(out!.dtype);
    // The fill value travels as bits: WGSL has no NaN/inf constants.
    const bits =
      t === 'f32'
        ? f32Bits(value)
        : out!.dtype === 'bool'
          ? value !== 0 && !Number.isNaN(value)
            ? 1
            : 0
          : value;
    const u = packUniforms(
      [
        ['n', n],
        ['xoff', x!.offset],
        ['value', bits],
      ],
      [
        ['shape', out!.shape],
        ['xshape', x!.shape],
        ['xs', x!.strides],
        ['before', before],
      ],
      rank,
    );
    const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x!.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out!.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = ${LINEAR_ID};
  if (e >= p.n) { return; }
  var ox = p.xoff;
  var inside = true;
  ${unravelCode('e', rank, 'shape', [], (d) => `let ic = i32(c) - i32(${at('before', d)}); inside = inside && ic >= 0 && ic < i32(${at('xshape', d)}); ox = ox + u32(max(ic, 0)) * ${at('xs', d)};`)}
  var v = ${t === 'u32' ? 'p.value' : `bitcast<${t}>(p.value)`};
  if (inside) { v = ${loadAs('x', x!.dtype, 'ox', t)}; }
  out[e] = ${storeExpr(out!.dtype, 'v', t)};
}`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [bufferOf(x!), bufferOf(out!)],
      params: u.words.buffer,
      grid: gridFor(b, n),
    });
  },
);
