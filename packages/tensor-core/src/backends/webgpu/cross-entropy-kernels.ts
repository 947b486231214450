/**
 * WebGPU kernels of the fused cross-entropy (contracts in ops/cross-entropy.ts).
 *
 * Forward: one workgroup per row; each invocation keeps an online logsumexp
 * (running max and rescaled sum) and the sum of its logits over a strided
 * part of the row, so the row is read once; a tree in workgroup memory merges
 * the partial results. For 'mean' and 'sum', a second single-workgroup kernel
 * folds the row losses and counts the rows not ignored. Backward: one
 * invocation per logit recomputes its softmax from the saved logsumexp.
 */
import type { TensorView } from '../../backend.js';
import type { CrossEntropyAttrs } from '../../ops/cross-entropy.js';
import { registerKernel } from '../../registry.js';
import { gridFor, WORKGROUP } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

const ROW_WG = 256;
const REDUCTION_CODE = { none: 0, sum: 1, mean: 2 } as const;

function bufferOf(v: TensorView): GPUBuffer {
  return (v.handle as GpuStorage).buffer;
}

/** Uniforms shared by the three shaders. */
function params(
  n: number,
  C: number,
  xoff: number,
  toff: number,
  goff: number,
  attrs: CrossEntropyAttrs,
): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  u[0] = n;
  u[1] = C;
  u[2] = xoff;
  u[3] = toff;
  new Int32Array(buf)[4] = attrs.ignoreIndex;
  new Float32Array(buf)[5] = attrs.labelSmoothing;
  u[6] = REDUCTION_CODE[attrs.reduction];
  u[7] = goff;
  return buf;
}

const PARAMS_STRUCT = `struct Params { n: u32, c: u32, xoff: u32, toff: u32, ignore: i32, eps: f32, mode: u32, goff: u32 }`;

function assertF32(op: string, outs: readonly TensorView[]): void {
  for (const o of outs)
    if (o.dtype !== 'f32')
      throw new Error(`internal: ${op} on webgpu writes f32 outputs; got ${o.dtype}`);
}

registerKernel<WebGpuBackend, CrossEntropyAttrs>(
  'cross_entropy',
  'webgpu',
  (b, [logits, targets], outputs, attrs) => {
    assertF32('cross_entropy', outputs);
    const C = logits!.shape[logits!.shape.length - 1]!;
    const N = targets!.shape.reduce((a, d) => a * d, 1);
    const reduce = attrs.reduction !== 'none';
    const rowCode = `${WGSL_DTYPE_HELPERS}
${PARAMS_STRUCT}
@group(0) @binding(0) var<storage, read> x: array<${storageType(logits!.dtype)}>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> red: array<vec4<f32>, ${ROW_WG}>;

// A partial row summary: (max m, Σexp(v − m), Σ(v − m), count). Sums are kept relative to the
// running max so that the losses keep their precision when logits are large.
fn shift(d: f32, k: f32, m_old: f32, m: f32) -> f32 {
  if (k == 0.0 || m_old == m) { return d; }
  return d - k * (m - m_old);
}
fn merge(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let m = max(a.x, b.x);
  let s = select(0.0, a.y * exp(a.x - m), a.y != 0.0) + select(0.0, b.y * exp(b.x - m), b.y != 0.0);
  return vec4<f32>(m, s, shift(a.z, a.w, a.x, m) + shift(b.z, b.w, b.x, m), a.w + b.w);
}

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.n) { return; }
  let base = p.xoff + row * p.c;
  let neg_inf = -fathom_inf();
  var m = neg_inf;
  var s = 0.0;
  var d = 0.0;
  var k = 0.0;
  for (var c = lid.x; c < p.c; c = c + ${ROW_WG}u) {
    let v = ${loadExpr('x', logits!.dtype, 'base + c')};
    k = k + 1.0;
    if (v == neg_inf) {
      d = neg_inf;
    } else if (v > m) {
      s = s * exp(m - v) + 1.0;
      if (k > 1.0) { d = d - (k - 1.0) * (v - m); }
      m = v;
    } else {
      s = s + exp(v - m);
      d = d + (v - m);
    }
  }
  red[lid.x] = vec4<f32>(m, s, d, k);
  workgroupBarrier();
  for (var h = ${ROW_WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid.x < h) { red[lid.x] = merge(red[lid.x], red[lid.x + h]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let total = red[0];
    let log_s = log(total.y);
    lse_out[2u * row] = total.x;
    lse_out[2u * row + 1u] = log_s;
    let t = targets[p.toff + row];
    var loss = 0.0;
    if (t != p.ignore) {
      if (t < 0 || t >= i32(p.c)) {
        loss = fathom_nan();
      } else {
        let xt = ${loadExpr('x', logits!.dtype, 'base + u32(t)')};
        loss = (1.0 - p.eps) * ((total.x - xt) + log_s);
        // mean_c(lse − x_c) = log Σexp(x − m) − mean_c(x − m)
        if (p.eps > 0.0) { loss = loss + p.eps * (log_s - total.z / f32(p.c)); }
      }
    }
    row_loss[row] = loss;
  }
}
`;
    const rowLoss = reduce ? b.allocate('f32', Math.max(N, 1)) : null;
    b.dispatch({
      pipeline: b.pipeline(rowCode),
      buffers: [
        bufferOf(logits!),
        bufferOf(targets!),
        rowLoss ? rowLoss.buffer : bufferOf(outputs[0]!),
        bufferOf(outputs[1]!),
      ],
      params: params(N, C, logits!.offset, targets!.offset, 0, attrs),
      grid: gridFor(b, N * WORKGROUP),
    });
    if (!rowLoss) return;
    const foldCode = `${WGSL_DTYPE_HELPERS}
${PARAMS_STRUCT}
@group(0) @binding(0) var<storage, read> row_loss: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> count: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> red: array<vec2<f32>, ${ROW_WG}>;

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var acc = vec2<f32>(0.0, 0.0);
  for (var r = lid.x; r < p.n; r = r + ${ROW_WG}u) {
    acc = acc + vec2<f32>(row_loss[r], select(1.0, 0.0, targets[p.toff + r] == p.ignore));
  }
  red[lid.x] = acc;
  workgroupBarrier();
  for (var k = ${ROW_WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { red[lid.x] = red[lid.x] + red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let total = red[0];
    var l = total.x;
    if (p.mode == 2u) { l = select(total.x / total.y, fathom_nan(), total.y == 0.0); }
    loss[0] = l;
    count[0] = total.y;
  }
}
`;
    b.dispatch({
      pipeline: b.pipeline(foldCode),
      buffers: [rowLoss.buffer, bufferOf(targets!), bufferOf(outputs[0]!), bufferOf(outputs[2]!)],
      params: params(N, C, 0, targets!.offset, 0, attrs),
      grid: [1],
    });
    // Later users of this pooled buffer are encoded after the dispatches above.
    b.release(rowLoss);
  },
);

registerKernel<WebGpuBackend, CrossEntropyAttrs>(
  'cross_entropy_grad',
  'webgpu',
  (b, inputs, outputs, attrs) => {
    assertF32('cross_entropy_grad', outputs);
    const [logits, targets, lse, g] = inputs as [TensorView, TensorView, TensorView, TensorView];
    const count = attrs.reduction === 'mean' ? inputs[4]! : null;
    const C = logits.shape[logits.shape.length - 1]!;
    const N = targets.shape.reduce((a, d) => a * d, 1);
    const total = N * C;
    if (total === 0) return;
    const scale =
      attrs.reduction === 'none'
        ? loadExpr('g', g.dtype, 'p.goff + row')
        : attrs.reduction === 'sum'
          ? loadExpr('g', g.dtype, 'p.goff')
          : `${loadExpr('g', g.dtype, 'p.goff')} / count_in[0]`;
    const code = `${WGSL_DTYPE_HELPERS}
${PARAMS_STRUCT}
@group(0) @binding(0) var<storage, read> x: array<${storageType(logits.dtype)}>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse_in: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<${storageType(g.dtype)}>;
${count ? '@group(0) @binding(4) var<storage, read> count_in: array<f32>;' : ''}
@group(0) @binding(${count ? 5 : 4}) var<storage, read_write> dx: array<f32>;
@group(0) @binding(${count ? 6 : 5}) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (e >= p.n * p.c) { return; }
  let row = e / p.c;
  let col = e - row * p.c;
  let t = targets[p.toff + row];
  var r = 0.0;
  if (t != p.ignore) {
    if (t < 0 || t >= i32(p.c)) {
      r = fathom_nan();
    } else {
      let prob = exp((${loadExpr('x', logits.dtype, 'p.xoff + e')} - lse_in[2u * row]) - lse_in[2u * row + 1u]);
      let onehot = select(0.0, 1.0 - p.eps, i32(col) == t) + p.eps / f32(p.c);
      r = (prob - onehot) * (${scale});
    }
  }
  dx[e] = r;
}
`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [logits, targets, lse, g, ...(count ? [count] : []), outputs[0]!].map(bufferOf),
      params: params(N, C, logits.offset, targets.offset, g.offset, attrs),
      grid: gridFor(b, total),
    });
  },
);
