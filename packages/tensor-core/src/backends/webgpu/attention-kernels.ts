/**
 * WebGPU kernels of fused attention (contracts in ops/attention.ts).
 *
 * One invocation per query row (forward, dq) or per key row (dk/dv), holding its
 * row and accumulators in registers as vec4s and walking the other side's rows
 * one at a time with an online softmax: no workgroup memory, no barriers (the
 * habits lavapipe rewards), and no [T, S] buffer anywhere. Backward recomputes
 * each probability from the saved logsumexp; dk/dv sum over the query heads of a
 * GQA group inside the invocation, so no atomics are needed.
 */
import type { TensorView } from '../../backend.js';
import type { AttentionAttrs } from '../../ops/attention.js';
import { registerKernel } from '../../registry.js';
import { WORKGROUP, gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

const buf = (v: TensorView): GPUBuffer => (v.handle as GpuStorage).buffer;

/** Binding and a `ld_<name>(base, j4) -> vec4<f32>` reader of elements base + 4·j4 + 0..3 (< D). */
function reader(i: number, name: string, v: TensorView, D: number): string {
  const vec = v.dtype === 'f32' && D % 4 === 0 && v.offset % 4 === 0;
  if (vec)
    return `@group(0) @binding(${i}) var<storage, read> ${name}: array<vec4<f32>>;
fn ld_${name}(base: u32, j4: u32) -> vec4<f32> { return ${name}[(base >> 2u) + j4]; }`;
  const comps = [0, 1, 2, 3].map(
    (c) =>
      `select(0.0, f32(${loadExpr(name, v.dtype, `base + j4 * 4u + ${c}u`)}), j4 * 4u + ${c}u < ${D}u)`,
  );
  return `@group(0) @binding(${i}) var<storage, read> ${name}: array<${storageType(v.dtype)}>;
fn ld_${name}(base: u32, j4: u32) -> vec4<f32> { return vec4<f32>(${comps.join(', ')}); }`;
}

/** A writer of an f32 output row from vec4s (drops the padding past D). */
function writer(i: number, name: string, D: number): string {
  return `@group(0) @binding(${i}) var<storage, read_write> ${name}: array<f32>;
fn st_${name}(base: u32, j4: u32, x: vec4<f32>) {
  ${[0, 1, 2, 3].map((c) => `if (j4 * 4u + ${c}u < ${D}u) { ${name}[base + j4 * 4u + ${c}u] = x[${c}]; }`).join('\n  ')}
}`;
}

interface Shape {
  B: number;
  H: number;
  T: number;
  D: number;
  Hkv: number;
  S: number;
}

function shapeOf(q: TensorView, k: TensorView): Shape {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  return { B, H, T, D, Hkv: k.shape[1]!, S: k.shape[2]! };
}

/** Uniform block: sizes, element offsets of every input, and the mask. */
function params(s: Shape, a: AttentionAttrs, offsets: number[]): ArrayBuffer {
  const words = new ArrayBuffer(16 * 4);
  const u = new Uint32Array(words);
  const i = new Int32Array(words);
  const f = new Float32Array(words);
  u.set([s.B, s.H, s.T, s.Hkv, s.S, a.causal ? 1 : 0]);
  i[6] = a.kvOffset;
  f[7] = a.scale;
  offsets.forEach((o, j) => (u[8 + j] = o));
  return words;
}

const PARAMS = `struct Params { B: u32, H: u32, T: u32, Hkv: u32, S: u32, causal: u32, kvOffset: i32, scale: f32,
  off0: u32, off1: u32, off2: u32, off3: u32, off4: u32, off5: u32, pad0: u32, pad1: u32 }`;

/** Shared prologue of the query-row kernels: row indices, the key head's base, the visible key count. */
function queryRow(D: number): string {
  return `let row = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (row >= p.B * p.H * p.T) { return; }
  let t = row % p.T;
  let bh = row / p.T;
  let h = bh % p.H;
  let b = bh / p.H;
  let kvBase = (b * p.Hkv + h / (p.H / p.Hkv)) * p.S * ${D}u;
  var n = p.S;
  if (p.causal == 1u) { n = u32(clamp(i32(t) + p.kvOffset + 1, 0, i32(p.S))); }`;
}

function assertF32(op: string, outs: readonly TensorView[]): void {
  for (const o of outs)
    if (o.dtype !== 'f32') throw new Error(`internal: ${op} writes f32 outputs; got ${o.dtype}`);
}

registerKernel<WebGpuBackend, AttentionAttrs>(
  'attention',
  'webgpu',
  (b, [q, k, v], [o, lse], a) => {
    assertF32('attention', [o!, lse!]);
    const s = shapeOf(q!, k!);
    const rows = s.B * s.H * s.T;
    if (rows === 0 || s.D === 0) return;
    const D = s.D;
    const D4 = Math.ceil(D / 4);
    const code = `${WGSL_DTYPE_HELPERS}
${PARAMS}
${reader(0, 'q', q!, D)}
${reader(1, 'k', k!, D)}
${reader(2, 'v', v!, D)}
${writer(3, 'o', D)}
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  ${queryRow(D)}
  var qr: array<vec4<f32>, ${D4}>;
  var acc: array<vec4<f32>, ${D4}>;
  for (var j = 0u; j < ${D4}u; j++) { qr[j] = ld_q(p.off0 + row * ${D}u, j) * p.scale; }
  var m = -3.4e38;
  var l = 0.0;
  for (var s = 0u; s < n; s++) {
    let kb = p.off1 + kvBase + s * ${D}u;
    var dot4 = vec4<f32>();
    for (var j = 0u; j < ${D4}u; j++) { dot4 = fma(qr[j], ld_k(kb, j), dot4); }
    let x = dot4.x + dot4.y + dot4.z + dot4.w;
    let mNew = max(m, x);
    let corr = exp(m - mNew);
    let e = exp(x - mNew);
    l = l * corr + e;
    let vb = p.off2 + kvBase + s * ${D}u;
    for (var j = 0u; j < ${D4}u; j++) { acc[j] = fma(vec4<f32>(e), ld_v(vb, j), acc[j] * corr); }
    m = mNew;
  }
  let inv = 1.0 / l;
  for (var j = 0u; j < ${D4}u; j++) { st_o(row * ${D}u, j, acc[j] * inv); }
  lse[row] = m + log(l);
}
`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [buf(q!), buf(k!), buf(v!), buf(o!), buf(lse!)],
      params: params(s, a, [q!.offset, k!.offset, v!.offset]),
      grid: gridFor(b, rows),
    });
  },
);

registerKernel<WebGpuBackend, AttentionAttrs>(
  'attention_grad_q',
  'webgpu',
  (b, [q, k, v, o, lse, g], [dq, delta], a) => {
    assertF32('attention_grad_q', [dq!, delta!]);
    const s = shapeOf(q!, k!);
    const rows = s.B * s.H * s.T;
    if (rows === 0 || s.D === 0) return;
    const D = s.D;
    const D4 = Math.ceil(D / 4);
    const code = `${WGSL_DTYPE_HELPERS}
${PARAMS}
${reader(0, 'q', q!, D)}
${reader(1, 'k', k!, D)}
${reader(2, 'v', v!, D)}
${reader(3, 'o', o!, D)}
@group(0) @binding(4) var<storage, read> lse: array<f32>;
${reader(5, 'g', g!, D)}
${writer(6, 'dq', D)}
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  ${queryRow(D)}
  var qr: array<vec4<f32>, ${D4}>;
  var gr: array<vec4<f32>, ${D4}>;
  var acc: array<vec4<f32>, ${D4}>;
  var dl4 = vec4<f32>();
  for (var j = 0u; j < ${D4}u; j++) {
    qr[j] = ld_q(p.off0 + row * ${D}u, j) * p.scale;
    gr[j] = ld_g(p.off5 + row * ${D}u, j);
    dl4 = fma(gr[j], ld_o(p.off3 + row * ${D}u, j), dl4);
  }
  let dl = dl4.x + dl4.y + dl4.z + dl4.w;
  let L = lse[p.off4 + row];
  for (var s = 0u; s < n; s++) {
    let kb = p.off1 + kvBase + s * ${D}u;
    let vb = p.off2 + kvBase + s * ${D}u;
    var dot4 = vec4<f32>();
    var dp4 = vec4<f32>();
    for (var j = 0u; j < ${D4}u; j++) {
      dot4 = fma(qr[j], ld_k(kb, j), dot4);
      dp4 = fma(gr[j], ld_v(vb, j), dp4);
    }
    let pr = exp(dot4.x + dot4.y + dot4.z + dot4.w - L);
    let ds = pr * (dp4.x + dp4.y + dp4.z + dp4.w - dl) * p.scale;
    for (var j = 0u; j < ${D4}u; j++) { acc[j] = fma(vec4<f32>(ds), ld_k(kb, j), acc[j]); }
  }
  for (var j = 0u; j < ${D4}u; j++) { st_dq(row * ${D}u, j, acc[j]); }
  delta[row] = dl;
}
`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [q!, k!, v!, o!, lse!, g!, dq!, delta!].map(buf),
      params: params(s, a, [q!.offset, k!.offset, v!.offset, o!.offset, lse!.offset, g!.offset]),
      grid: gridFor(b, rows),
    });
  },
);

registerKernel<WebGpuBackend, AttentionAttrs>(
  'attention_grad_kv',
  'webgpu',
  (b, [q, k, v, lse, delta, g], [dk, dv], a) => {
    assertF32('attention_grad_kv', [dk!, dv!]);
    const s = shapeOf(q!, k!);
    const rows = s.B * s.Hkv * s.S;
    if (rows === 0 || s.D === 0) return;
    const D = s.D;
    const D4 = Math.ceil(D / 4);
    const code = `${WGSL_DTYPE_HELPERS}
${PARAMS}
${reader(0, 'q', q!, D)}
${reader(1, 'k', k!, D)}
${reader(2, 'v', v!, D)}
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
${reader(5, 'g', g!, D)}
${writer(6, 'dk', D)}
${writer(7, 'dv', D)}
@group(0) @binding(8) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (row >= p.B * p.Hkv * p.S) { return; }
  let s = row % p.S;
  let bk = row / p.S;
  let hk = bk % p.Hkv;
  let b = bk / p.Hkv;
  let group = p.H / p.Hkv;
  var kr: array<vec4<f32>, ${D4}>;
  var vr: array<vec4<f32>, ${D4}>;
  var dkAcc: array<vec4<f32>, ${D4}>;
  var dvAcc: array<vec4<f32>, ${D4}>;
  for (var j = 0u; j < ${D4}u; j++) {
    kr[j] = ld_k(p.off1 + row * ${D}u, j) * p.scale;
    vr[j] = ld_v(p.off2 + row * ${D}u, j);
  }
  var t0 = 0u;
  if (p.causal == 1u) { t0 = u32(max(i32(s) - p.kvOffset, 0)); }
  for (var hh = 0u; hh < group; hh++) {
    let h = hk * group + hh;
    for (var t = t0; t < p.T; t++) {
      let qrow = (b * p.H + h) * p.T + t;
      let qb = p.off0 + qrow * ${D}u;
      let gb = p.off5 + qrow * ${D}u;
      var dot4 = vec4<f32>();
      var dp4 = vec4<f32>();
      for (var j = 0u; j < ${D4}u; j++) {
        dot4 = fma(ld_q(qb, j), kr[j], dot4);
        dp4 = fma(ld_g(gb, j), vr[j], dp4);
      }
      let pr = exp(dot4.x + dot4.y + dot4.z + dot4.w - lse[p.off3 + qrow]);
      let ds = pr * (dp4.x + dp4.y + dp4.z + dp4.w - delta[p.off4 + qrow]) * p.scale;
      for (var j = 0u; j < ${D4}u; j++) {
        dvAcc[j] = fma(vec4<f32>(pr), ld_g(gb, j), dvAcc[j]);
        dkAcc[j] = fma(vec4<f32>(ds), ld_q(qb, j), dkAcc[j]);
      }
    }
  }
  for (var j = 0u; j < ${D4}u; j++) {
    st_dk(row * ${D}u, j, dkAcc[j]);
    st_dv(row * ${D}u, j, dvAcc[j]);
  }
}
`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [q!, k!, v!, lse!, delta!, g!, dk!, dv!].map(buf),
      params: params(s, a, [
        q!.offset,
        k!.offset,
        v!.offset,
        lse!.offset,
        delta!.offset,
        g!.offset,
      ]),
      grid: gridFor(b, rows),
    });
  },
);
