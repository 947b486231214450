/**
 * WebGPU kernels of softmax, log-softmax and their gradients: one workgroup
 * per row. A first pass reduces the row in workgroup memory (an online
 * max-and-rescaled-sum pair for the forward ops, a plain sum for the
 * gradients); a second pass writes every element. Inputs are read through
 * their strides (any axis, transposed or broadcast views); the output is
 * contiguous, so a row along a non-last axis is written with stride `inner`.
 */
import type { TensorView } from '../../backend.js';
import { isHalf } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { WORKGROUP, gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType, storeExpr } from './wgsl-dtype.js';

/** What a row kernel computes. Expressions see the loaded values `v0`, `v1` as f32. */
interface RowSpec {
  /** `pair`: running (max m, rescaled sum s) of v0; `sum`: Σ of `term` as `s`. */
  stats: 'pair' | 'sum';
  term?: string;
  /** Output element from v0, v1 and the row's statistics (`m`, `s`). */
  write: string;
}

const SPECS: Record<string, RowSpec> = {
  softmax: { stats: 'pair', write: 'exp(v0 - m) / s' },
  log_softmax: { stats: 'pair', write: 'v0 - m - log(s)' },
  softmax_grad: { stats: 'sum', term: 'v0 * v1', write: 'v0 * (v1 - s)' },
  log_softmax_grad: { stats: 'sum', term: 'v1', write: 'v1 - exp(v0) * s' },
};

function vec(i: number): string {
  return `[${i >> 2}][${i & 3}]`;
}

function shader(
  spec: RowSpec,
  inputs: readonly TensorView[],
  out: TensorView,
  keptRank: number,
  wg: number,
): string {
  const kv = Math.max(1, Math.ceil(keptRank / 4));
  const nIn = inputs.length;
  const bindings = inputs
    .map(
      (v, k) =>
        `@group(0) @binding(${k}) var<storage, read> in${k}: array<${storageType(v.dtype)}>;`,
    )
    .join('\n');
  const baseCode: string[] = [];
  for (let d = keptRank - 1; d >= 0; d--) {
    baseCode.push(
      `{ let c = rem % p.kshape${vec(d)}; rem = rem / p.kshape${vec(d)}; ${inputs
        .map((_, k) => `b${k} = b${k} + c * p.kstride${k}${vec(d)};`)
        .join(' ')} }`,
    );
  }
  const load = (j: string): string =>
    inputs
      .map(
        (v, k) =>
          `let v${k} = f32(${loadExpr(`in${k}`, v.dtype, `b${k} + ${j} * p.axisStride[${k}]`)});`,
      )
      .join(' ');
  const pass1 =
    spec.stats === 'pair'
      ? `var m = ninf;
  var s = 0.0;
  for (var j = lid.x; j < p.len; j = j + ${wg}u) {
    ${load('j')}
    if (v0 > m) { s = s * exp(m - v0) + 1.0; m = v0; } else if (v0 != ninf) { s = s + exp(v0 - m); }
  }
  pm[lid.x] = m;
  ps[lid.x] = s;
  workgroupBarrier();
  for (var h = ${wg / 2}u; h > 0u; h = h >> 1u) {
    if (lid.x < h) {
      let m1 = pm[lid.x];
      let m2 = pm[lid.x + h];
      let mm = max(m1, m2);
      ps[lid.x] = ps[lid.x] * select(exp(m1 - mm), 1.0, m1 == mm) + ps[lid.x + h] * select(exp(m2 - mm), 1.0, m2 == mm);
      pm[lid.x] = mm;
    }
    workgroupBarrier();
  }
  let rm = pm[0];
  let rs = ps[0];`
      : `var s = 0.0;
  for (var j = lid.x; j < p.len; j = j + ${wg}u) {
    ${load('j')}
    s = s + ${spec.term};
  }
  ps[lid.x] = s;
  workgroupBarrier();
  for (var h = ${wg / 2}u; h > 0u; h = h >> 1u) {
    if (lid.x < h) { ps[lid.x] = ps[lid.x] + ps[lid.x + h]; }
    workgroupBarrier();
  }
  let rm = 0.0;
  let rs = ps[0];`;
  return `${WGSL_DTYPE_HELPERS}
struct Params {
  rows: u32, len: u32, inner: u32, pad: u32,
  axisStride: vec4<u32>,
  offsets: vec4<u32>,
  kshape: array<vec4<u32>, ${kv}>,
${inputs.map((_, k) => `  kstride${k}: array<vec4<u32>, ${kv}>,`).join('\n')}
}
${bindings}
@group(0) @binding(${nIn}) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(${nIn + 1}) var<uniform> p: Params;
var<workgroup> pm: array<f32, ${wg}>;
var<workgroup> ps: array<f32, ${wg}>;

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; }
  let ninf = -fathom_inf();
  var rem = row;
${inputs.map((_, k) => `  var b${k} = p.offsets[${k}];`).join('\n')}
  ${baseCode.join('\n  ')}
  ${pass1}
  let outBase = (row / p.inner) * p.len * p.inner + row % p.inner;
  for (var j = lid.x; j < p.len; j = j + ${wg}u) {
    ${load('j')}
    let m = rm;
    let s = rs;
    let r = ${spec.write};
    out[outBase + j * p.inner] = ${storeExpr(out.dtype, 'r', 'f32')};
  }
}
`;
}

/** Encodes one row kernel: rows run along `axis` of the output's shape; inputs broadcast to it. */
function runRows(
  backend: WebGpuBackend,
  spec: RowSpec,
  inputs: readonly TensorView[],
  out: TensorView,
  axis: number,
): void {
  if (isHalf(out.dtype))
    throw new Error('internal: row kernels write f32; execute() casts to 16-bit');
  const shape = out.shape.length === 0 ? [1] : out.shape;
  const n = sizeOf(shape);
  if (n === 0) return;
  const len = shape[axis]!;
  const rows = n / len;
  const inner = sizeOf(shape.slice(axis + 1));
  const kept = shape.map((_, i) => i).filter((i) => i !== axis);
  const keptRank = Math.max(kept.length, 1);
  const kv = Math.ceil(keptRank / 4);
  // Long rows (vocabularies) want many invocations; short ones would leave most idle.
  const wg = len >= 1024 ? 256 : 64;
  const words = new Uint32Array(12 + kv * 4 * (1 + inputs.length));
  words.set([rows, len, inner]);
  inputs.forEach((v, k) => {
    const strides = v.shape.length === 0 ? [0] : broadcastStrides(v.shape, v.strides, shape);
    words[4 + k] = strides[axis]!;
    words[8 + k] = v.offset;
    kept.forEach((a, i) => (words[12 + kv * 4 * (1 + k) + i] = strides[a]!));
  });
  if (kept.length === 0) words[12] = 1;
  kept.forEach((a, i) => (words[12 + i] = shape[a]!));
  backend.dispatch({
    pipeline: backend.pipeline(shader(spec, inputs, out, keptRank, wg)),
    buffers: [
      ...inputs.map((v) => (v.handle as GpuStorage).buffer),
      (out.handle as GpuStorage).buffer,
    ],
    params: words.buffer,
    // gridFor counts WORKGROUP-sized groups: one group per row, whatever this shader's size.
    grid: gridFor(backend, rows * WORKGROUP),
  });
}

for (const [op, spec] of Object.entries(SPECS)) {
  registerKernel<WebGpuBackend, { axis: number }>(op, 'webgpu', (b, inputs, [y], { axis }) =>
    runRows(b, spec, inputs, y!, axis),
  );
}
