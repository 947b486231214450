/**
 * Generic reduction over any set of axes. Two shapes of work: when each output
 * has many inputs and there are few outputs, one workgroup per output element,
 * its invocations striding over the reduced elements, then a tree in workgroup
 * memory; otherwise one invocation per output element looping over its inputs
 * (a workgroup per output would leave most lanes idle, which on a CPU adapter
 * such as lavapipe costs seconds). Shapes and strides are uniforms; the shader
 * is specialised on the ranks, the dtype, the combine rule and the variant.
 */
import type { TensorView } from '../../backend.js';
import { sizeOf } from '../../shape.js';
import { gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType, storeExpr } from './wgsl-dtype.js';

const WG = 64;

/** How values combine. Expressions see `acc`, `v` (values), `n` (reduced count as f32). */
export interface ReduceRule {
  /** WGSL type of the accumulator. */
  acc: 'f32' | 'i32' | 'u32';
  init: string;
  combine: string;
  finalize: string;
}

function vec(i: number): string {
  return `[${i >> 2}][${i & 3}]`;
}

/** Encodes a reduction of `x` over `axes` into `out` (shape = x's shape without those axes). */
export function runReduce(
  backend: WebGpuBackend,
  x: TensorView,
  out: TensorView,
  axes: readonly number[],
  rule: ReduceRule,
): void {
  const outCount = sizeOf(out.shape);
  if (outCount === 0) return;
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptRank = Math.max(kept.length, 1);
  const redRank = Math.max(axes.length, 1);
  const kv = Math.ceil(keptRank / 4);
  const rv = Math.ceil(redRank / 4);
  const reduced = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const keptCode: string[] = [];
  for (let d = keptRank - 1; d >= 0; d--) {
    keptCode.push(
      `{ let c = rem % p.kshape${vec(d)}; rem = rem / p.kshape${vec(d)}; base = base + c * p.kstride${vec(d)}; }`,
    );
  }
  const redCode: string[] = [];
  for (let d = redRank - 1; d >= 0; d--) {
    redCode.push(
      `{ let c = rr % p.rshape${vec(d)}; rr = rr / p.rshape${vec(d)}; off = off + c * p.rstride${vec(d)}; }`,
    );
  }
  const combine = (a: string, v: string): string =>
    rule.combine.replace(/\bacc\b/g, a).replace(/\bv\b/g, v);
  const perThread = reduced <= 256 || outCount >= 4096;
  const perThreadCode = `${WGSL_DTYPE_HELPERS}
struct Params {
  outCount: u32, reduced: u32, offset: u32, pad: u32,
  kshape: array<vec4<u32>, ${kv}>, kstride: array<vec4<u32>, ${kv}>,
  rshape: array<vec4<u32>, ${rv}>, rstride: array<vec4<u32>, ${rv}>,
}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = gid.x + gid.y * nw.x * ${WG}u;
  if (o >= p.outCount) { return; }
  var rem = o;
  var base = p.offset;
  ${keptCode.join('\n  ')}
  let n = f32(p.reduced);
  var acc: ${rule.acc} = ${rule.init};
  for (var r = 0u; r < p.reduced; r = r + 1u) {
    var rr = r;
    var off = base;
    ${redCode.join('\n    ')}
    let v = ${rule.acc}(${loadExpr('x', x.dtype, 'off')});
    acc = ${combine('acc', 'v')};
  }
  let r = ${rule.finalize};
  out[o] = ${storeExpr(out.dtype, 'r', rule.acc)};
}
`;
  const treeCode = `${WGSL_DTYPE_HELPERS}
struct Params {
  outCount: u32, reduced: u32, offset: u32, pad: u32,
  kshape: array<vec4<u32>, ${kv}>, kstride: array<vec4<u32>, ${kv}>,
  rshape: array<vec4<u32>, ${rv}>, rstride: array<vec4<u32>, ${rv}>,
}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> part: array<${rule.acc}, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = wid.x + wid.y * nw.x;
  if (o >= p.outCount) { return; }
  var rem = o;
  var base = p.offset;
  ${keptCode.join('\n  ')}
  let n = f32(p.reduced);
  var acc: ${rule.acc} = ${rule.init};
  for (var r = lid.x; r < p.reduced; r = r + ${WG}u) {
    var rr = r;
    var off = base;
    ${redCode.join('\n    ')}
    let v = ${rule.acc}(${loadExpr('x', x.dtype, 'off')});
    acc = ${combine('acc', 'v')};
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { part[lid.x] = ${combine('part[lid.x]', 'part[lid.x + s]')}; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let acc = part[0];
    let r = ${rule.finalize};
    out[o] = ${storeExpr(out.dtype, 'r', rule.acc)};
  }
}
`;
  const words = new Uint32Array(4 + 2 * kv * 4 + 2 * rv * 4);
  words[0] = outCount;
  words[1] = reduced;
  words[2] = x.offset;
  const at = { ks: 4, kt: 4 + kv * 4, rs: 4 + 2 * kv * 4, rt: 4 + 2 * kv * 4 + rv * 4 };
  if (kept.length === 0) words[at.ks] = 1;
  kept.forEach((a, i) => {
    words[at.ks + i] = x.shape[a]!;
    words[at.kt + i] = x.strides[a]!;
  });
  if (axes.length === 0) words[at.rs] = 1;
  axes.forEach((a, i) => {
    words[at.rs + i] = x.shape[a]!;
    words[at.rt + i] = x.strides[a]!;
  });
  backend.dispatch({
    pipeline: backend.pipeline(perThread ? perThreadCode : treeCode),
    buffers: [(x.handle as GpuStorage).buffer, (out.handle as GpuStorage).buffer],
    params: words.buffer,
    grid: gridFor(backend, perThread ? outCount : outCount * WG),
  });
}
