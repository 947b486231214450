/**
 * WebGPU kernels of the fused layer/RMS norms (contracts in ops/norms.ts).
 *
 * Forward and input-gradient kernels run one workgroup per row: invocations
 * stride over the row (coalesced), then a tree in workgroup memory combines
 * their f32 partial sums. The forward is two-pass (mean, then the centred sum
 * of squares), so rows with a large mean keep their precision. Parameter
 * gradients are column sums over rows, done without atomics: a first kernel
 * has each workgroup sum a block of 64 columns over one chunk of rows into a
 * [chunks, D] partial buffer, a second sums the chunks per column.
 */
import type { TensorView } from '../../backend.js';
import type { DType } from '../../dtype.js';
import type {
  NormAttrs,
  NormGradInputAttrs,
  NormKind,
  NormParamGradAttrs,
} from '../../ops/norms.js';
import { registerKernel } from '../../registry.js';
import { gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

/** Invocations per row in the row kernels. */
const ROW_WG = 256;
/** Columns per workgroup and row lanes per workgroup in the column-sum kernel. */
const COL_BLOCK = 64;
const ROW_LANES = 4;
/** Most row chunks the column sums split into (the second pass reads this many per column). */
const MAX_CHUNKS = 64;
/** Fewest rows per chunk (below this, the partial buffer costs more than it saves). */
const MIN_CHUNK_ROWS = 16;

function bufferOf(v: TensorView): GPUBuffer {
  return (v.handle as GpuStorage).buffer;
}

/** Outputs are fresh f32 tensors here: execute() widens 16-bit outputs and casts after. */
function assertF32(op: string, outs: readonly TensorView[]): void {
  for (const o of outs)
    if (o.dtype !== 'f32')
      throw new Error(`internal: ${op} on webgpu writes f32 outputs; got ${o.dtype}`);
}

function rowsOf(x: TensorView): { rows: number; D: number } {
  const D = x.shape[x.shape.length - 1]!;
  let rows = 1;
  for (let i = 0; i < x.shape.length - 1; i++) rows *= x.shape[i]!;
  return { rows, D };
}

/** Workgroup tree sums of a vec2 (two sums for the price of one set of barriers). */
const WG_SUM = /* wgsl */ `
var<workgroup> fathom_red: array<vec2<f32>, ${ROW_WG}>;
fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  fathom_red[lid] = v;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { fathom_red[lid] = fathom_red[lid] + fathom_red[lid + s]; }
    workgroupBarrier();
  }
  let r = fathom_red[0];
  workgroupBarrier();
  return r;
}
`;

/** One storage binding declaration. */
function binding(i: number, name: string, dtype: DType, write = false): string {
  return `@group(0) @binding(${i}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${storageType(dtype)}>;`;
}

function params(words: number[], floats: Record<number, number> = {}): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil(words.length / 4) * 16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  words.forEach((w, i) => (u[i] = w));
  for (const [i, v] of Object.entries(floats)) f[Number(i)] = v;
  return buf;
}

function forward(
  b: WebGpuBackend,
  kind: NormKind,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  { eps, hasWeight, hasBias }: NormAttrs,
): void {
  assertF32(`${kind}_norm`, outputs);
  const x = inputs[0]!;
  const w = hasWeight ? inputs[1]! : null;
  const bias = hasBias ? inputs[hasWeight ? 2 : 1]! : null;
  const { rows, D } = rowsOf(x);
  if (rows === 0) return;
  const layer = kind === 'layer';
  const ins: [string, TensorView][] = [['x', x]];
  if (w) ins.push(['w', w]);
  if (bias) ins.push(['bias', bias]);
  const outs = layer ? ['y', 'mean_out', 'rstd_out'] : ['y', 'rstd_out'];
  const decls = [
    ...ins.map(([n, v], i) => binding(i, n, v.dtype)),
    ...outs.map((n, i) => binding(ins.length + i, n, 'f32', true)),
  ];
  const scaled = [
    '(ld_x(base + c) - mean) * rstd',
    w ? ` * ${loadExpr('w', w.dtype, 'p.woff + c')}` : '',
    bias ? ` + ${loadExpr('bias', bias.dtype, 'p.boff + c')}` : '',
  ].join('');
  const code = `${WGSL_DTYPE_HELPERS}
${WG_SUM}
struct Params { rows: u32, d: u32, xoff: u32, woff: u32, boff: u32, eps: f32, pad0: u32, pad1: u32 }
${decls.join('\n')}
@group(0) @binding(${ins.length + outs.length}) var<uniform> p: Params;
fn ld_x(i: u32) -> f32 { return ${loadExpr('x', x.dtype, 'i')}; }

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; }
  let base = p.xoff + row * p.d;
  let n = f32(p.d);
  ${
    layer
      ? `var s = 0.0;
  for (var c = lid.x; c < p.d; c = c + ${ROW_WG}u) { s = s + ld_x(base + c); }
  let mean = wg_sum2(vec2<f32>(s, 0.0), lid.x).x / n;`
      : 'let mean = 0.0;'
  }
  var q = 0.0;
  for (var c = lid.x; c < p.d; c = c + ${ROW_WG}u) { let v = ld_x(base + c) - mean; q = q + v * v; }
  let rstd = 1.0 / sqrt(wg_sum2(vec2<f32>(q, 0.0), lid.x).x / n + p.eps);
  for (var c = lid.x; c < p.d; c = c + ${ROW_WG}u) { y[row * p.d + c] = ${scaled}; }
  if (lid.x == 0u) {
    ${layer ? 'mean_out[row] = mean;' : ''}
    rstd_out[row] = rstd;
  }
}
`;
  b.dispatch({
    pipeline: b.pipeline(code),
    buffers: [...ins.map(([, v]) => bufferOf(v)), ...outputs.map(bufferOf)],
    params: params([rows, D, x.offset, w?.offset ?? 0, bias?.offset ?? 0], { 5: eps }),
    grid: gridFor(b, rows * 64),
  });
}

function gradInput(
  b: WebGpuBackend,
  kind: NormKind,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  { hasWeight }: NormGradInputAttrs,
): void {
  assertF32(`${kind}_norm_grad_input`, outputs);
  const layer = kind === 'layer';
  const [x, dy] = [inputs[0]!, inputs[1]!];
  const mean = layer ? inputs[2]! : null;
  const rstd = inputs[layer ? 3 : 2]!;
  const w = hasWeight ? inputs[layer ? 4 : 3]! : null;
  const { rows, D } = rowsOf(x);
  if (rows === 0 || D === 0) return;
  const ins: [string, TensorView][] = [
    ['x', x],
    ['dy', dy],
  ];
  if (mean) ins.push(['mean_in', mean]);
  ins.push(['rstd_in', rstd]);
  if (w) ins.push(['w', w]);
  const code = `${WGSL_DTYPE_HELPERS}
${WG_SUM}
struct Params { rows: u32, d: u32, xoff: u32, dyoff: u32, woff: u32, pad0: u32, pad1: u32, pad2: u32 }
${ins.map(([n, v], i) => binding(i, n, v.dtype)).join('\n')}
${binding(ins.length, 'dx', 'f32', true)}
@group(0) @binding(${ins.length + 1}) var<uniform> p: Params;
fn ld_x(i: u32) -> f32 { return ${loadExpr('x', x.dtype, 'i')}; }
fn ld_g(row: u32, c: u32) -> f32 {
  return ${loadExpr('dy', dy.dtype, 'p.dyoff + row * p.d + c')}${w ? ` * ${loadExpr('w', w.dtype, 'p.woff + c')}` : ''};
}

@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; }
  let base = p.xoff + row * p.d;
  let n = f32(p.d);
  let mean = ${layer ? 'mean_in[row]' : '0.0'};
  let rstd = rstd_in[row];
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = lid.x; c < p.d; c = c + ${ROW_WG}u) {
    let g = ld_g(row, c);
    acc = acc + vec2<f32>(g, g * (ld_x(base + c) - mean) * rstd);
  }
  let sums = wg_sum2(acc, lid.x) / n;
  let meanG = ${layer ? 'sums.x' : '0.0'};
  for (var c = lid.x; c < p.d; c = c + ${ROW_WG}u) {
    let xhat = (ld_x(base + c) - mean) * rstd;
    dx[row * p.d + c] = rstd * (ld_g(row, c) - meanG - xhat * sums.y);
  }
}
`;
  b.dispatch({
    pipeline: b.pipeline(code),
    buffers: [...ins.map(([, v]) => bufferOf(v)), bufferOf(outputs[0]!)],
    params: params([rows, D, x.offset, dy.offset, w?.offset ?? 0]),
    grid: gridFor(b, rows * 64),
  });
}

function gradParams(
  b: WebGpuBackend,
  kind: NormKind,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  { weight, bias }: NormParamGradAttrs,
): void {
  assertF32(`${kind}_norm_grad_params`, outputs);
  const layer = kind === 'layer';
  const [x, dy] = [inputs[0]!, inputs[1]!];
  const mean = layer ? inputs[2]! : null;
  const rstd = inputs[layer ? 3 : 2]!;
  const { rows, D } = rowsOf(x);
  if (D === 0) return;
  const chunkRows = Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / MAX_CHUNKS));
  const chunks = Math.max(1, Math.ceil(rows / chunkRows));
  const ins: [string, TensorView][] = [
    ['x', x],
    ['dy', dy],
  ];
  if (mean) ins.push(['mean_in', mean]);
  ins.push(['rstd_in', rstd]);
  const parts = [...(weight ? ['pw'] : []), ...(bias ? ['pb'] : [])];
  const stage1 = `${WGSL_DTYPE_HELPERS}
struct Params { rows: u32, d: u32, xoff: u32, dyoff: u32, chunk_rows: u32, pad0: u32, pad1: u32, pad2: u32 }
${ins.map(([n, v], i) => binding(i, n, v.dtype)).join('\n')}
${parts.map((n, i) => binding(ins.length + i, n, 'f32', true)).join('\n')}
@group(0) @binding(${ins.length + parts.length}) var<uniform> p: Params;
var<workgroup> red: array<vec2<f32>, ${COL_BLOCK * ROW_LANES}>;

@compute @workgroup_size(${COL_BLOCK}, ${ROW_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wid.x * ${COL_BLOCK}u + lid.x;
  let chunk = wid.y;
  let r0 = chunk * p.chunk_rows;
  let r1 = min(r0 + p.chunk_rows, p.rows);
  var acc = vec2<f32>(0.0, 0.0);
  if (col < p.d) {
    for (var r = r0 + lid.y; r < r1; r = r + ${ROW_LANES}u) {
      let g = ${loadExpr('dy', dy.dtype, 'p.dyoff + r * p.d + col')};
      let xhat = (${loadExpr('x', x.dtype, 'p.xoff + r * p.d + col')} - ${layer ? 'mean_in[r]' : '0.0'}) * rstd_in[r];
      acc = acc + vec2<f32>(g * xhat, g);
    }
  }
  red[lid.y * ${COL_BLOCK}u + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < p.d) {
    var s = red[lid.x];
    for (var k = 1u; k < ${ROW_LANES}u; k = k + 1u) { s = s + red[k * ${COL_BLOCK}u + lid.x]; }
    ${weight ? 'pw[chunk * p.d + col] = s.x;' : ''}
    ${bias ? 'pb[chunk * p.d + col] = s.y;' : ''}
  }
}
`;
  // One chunk: the partial sums are the result, so stage 1 writes the outputs directly.
  const scratch = chunks > 1 ? parts.map(() => b.allocate('f32', chunks * D)) : [];
  const partBuffers = chunks > 1 ? scratch.map((s) => s.buffer) : outputs.map(bufferOf);
  b.dispatch({
    pipeline: b.pipeline(stage1),
    buffers: [...ins.map(([, v]) => bufferOf(v)), ...partBuffers],
    params: params([rows, D, x.offset, dy.offset, chunkRows]),
    grid: [Math.ceil(D / COL_BLOCK), chunks],
  });
  if (chunks > 1) {
    const outs = parts.map((n) => `${n}_out`);
    const stage2 = `
struct Params { d: u32, chunks: u32, pad0: u32, pad1: u32 }
${parts.map((n, i) => binding(i, n, 'f32')).join('\n')}
${outs.map((n, i) => binding(parts.length + i, n, 'f32', true)).join('\n')}
@group(0) @binding(${parts.length * 2}) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let col = gid.x + gid.y * nw.x * 64u;
  if (col >= p.d) { return; }
  ${parts
    .map(
      (n) => `{ var s = 0.0;
    for (var k = 0u; k < p.chunks; k = k + 1u) { s = s + ${n}[k * p.d + col]; }
    ${n}_out[col] = s; }`,
    )
    .join('\n  ')}
}
`;
    b.dispatch({
      pipeline: b.pipeline(stage2),
      buffers: [...partBuffers, ...outputs.map(bufferOf)],
      params: params([D, chunks]),
      grid: gridFor(b, D),
    });
    // Later users of these pooled buffers are encoded after the dispatches above.
    for (const s of scratch) b.release(s);
  }
}

for (const kind of ['layer', 'rms'] as const) {
  registerKernel<WebGpuBackend, NormAttrs>(`${kind}_norm`, 'webgpu', (b, i, o, a) =>
    forward(b, kind, i, o, a),
  );
  registerKernel<WebGpuBackend, NormGradInputAttrs>(
    `${kind}_norm_grad_input`,
    'webgpu',
    (b, i, o, a) => gradInput(b, kind, i, o, a),
  );
  registerKernel<WebGpuBackend, NormParamGradAttrs>(
    `${kind}_norm_grad_params`,
    'webgpu',
    (b, i, o, a) => gradParams(b, kind, i, o, a),
  );
}
