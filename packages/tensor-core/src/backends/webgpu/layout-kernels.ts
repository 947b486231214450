/** WebGPU kernel of slice's backward: each output element reads the gradient if the slice covers it, else 0. */
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { gridFor, WORKGROUP } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, loadedType, storageType, storeExpr } from './wgsl-dtype.js';

registerKernel<WebGpuBackend, { starts: number[]; steps: number[] }>(
  'slice_grad',
  'webgpu',
  (b, [g], [dx], { starts, steps }) => {
    const n = sizeOf(dx!.shape);
    if (n === 0) return;
    const rank = Math.max(1, dx!.shape.length);
    const v = Math.ceil(rank / 4);
    const at = (i: number): string => `[${i >> 2}][${i & 3}]`;
    const dims: string[] = [];
    for (let d = rank - 1; d >= 0; d--) {
      dims.push(`{ let c = rem % p.oshape${at(d)}; rem = rem / p.oshape${at(d)};
      let rel = i32(c) - i32(p.start${at(d)});
      let k = u32(max(rel, 0)) / p.step${at(d)};
      inside = inside && rel >= 0 && u32(rel) % p.step${at(d)} == 0u && k < p.gshape${at(d)};
      off = off + k * p.gstride${at(d)}; }`);
    }
    const t = loadedType(g!.dtype);
    const code = `${WGSL_DTYPE_HELPERS}
struct Params { n: u32, goffset: u32, pad0: u32, pad1: u32,
  oshape: array<vec4<u32>, ${v}>, gshape: array<vec4<u32>, ${v}>, gstride: array<vec4<u32>, ${v}>,
  start: array<vec4<u32>, ${v}>, step: array<vec4<u32>, ${v}> }
@group(0) @binding(0) var<storage, read> g: array<${storageType(g!.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(dx!.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (e >= p.n) { return; }
  var rem = e;
  var off = p.goffset;
  var inside = true;
  ${dims.join('\n  ')}
  var r = ${t}(0);
  if (inside) { r = ${loadExpr('g', g!.dtype, 'off')}; }
  out[e] = ${storeExpr(dx!.dtype, 'r', t)};
}`;
    const words = new Uint32Array(4 + 5 * v * 4);
    words[0] = n;
    words[1] = g!.offset;
    const fields = [dx!.shape, g!.shape, g!.strides, starts, steps];
    fields.forEach((arr, f) => {
      for (let i = 0; i < rank; i++)
        words[4 + f * v * 4 + i] = arr.length === 0 ? (f === 4 || f < 2 ? 1 : 0) : arr[i]!;
    });
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [(g!.handle as GpuStorage).buffer, (dx!.handle as GpuStorage).buffer],
      params: words.buffer,
      grid: gridFor(b, n),
    });
  },
);
