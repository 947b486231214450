/**
 * Kernels of this package, for the `webgpu` and reference (`cpu`, and through
 * fallbacks `wasm`) backends: a matmul `y = x · Wᵀ` whose weight stays packed
 * (4- or 8-bit codes in u32 words, f32 scales and zero-points) and is
 * dequantised inside the kernel, and a fake-quantise op for QAT.
 */
import {
  type Backend,
  type TensorView,
  type WebGpuBackend,
  bufferOf,
  dataOf,
  foldGrid,
  packUniforms,
  registerKernel,
  registerWasmFallbacks,
  uniformStruct,
  type UniformField,
} from '@fathom/tensor-core';

/** Op `y = x · Wᵀ` over one packed part: inputs `[x, codes, scales, zeros?, columns?]`, output `[y]` f32 m × n. */
export const QUANT_MATMUL = 'quant_matmul';
/** Op fake-quantising x: inputs `[x, scales, zeros]`, outputs `[y, mask]` (mask 1 where not clipped). */
export const FAKE_QUANT = 'quant_fake_quantize';

/** Attributes of {@link QUANT_MATMUL}. */
export interface QuantMatmulAttrs {
  /** Rows of x. */
  m: number;
  /** Output features (rows of the part). */
  n: number;
  /** Columns of the part. */
  k: number;
  /** Columns of x (the layer's input features). */
  kx: number;
  bits: 4 | 8;
  rowBlock: number;
  groupSize: number;
  /** An input `zeros` follows `scales` (asymmetric); otherwise the zero-point is 2^(bits−1). */
  hasZeros: boolean;
  /** A last input maps part columns to x's columns. */
  hasColumns: boolean;
}

/** Op writing one part's dequantised values into its columns of `[W]` (f32 rows × kx, in place): inputs `[codes, scales, zeros?, columns?]`. */
export const QUANT_DEQUANTIZE = 'quant_dequantize';

/** Attributes of {@link FAKE_QUANT}: value = (clamp(round(x/s) + z, qmin, qmax) − z) · s. */
export interface FakeQuantAttrs {
  rows: number;
  cols: number;
  rowBlock: number;
  groupSize: number;
  qmin: number;
  qmax: number;
}

// Register-tiled: a 16×16 workgroup computes a 64×64 output tile, 4×4 per invocation,
// stepping K by 16; the weight tile is decoded from packed codes into workgroup memory.
const WG = 16;
const BLOCK = 64;
const BK = 16;
const WORKGROUP = 256;

const MATMUL_FIELDS: readonly UniformField[] = [
  ['m', 'u32'],
  ['xOff', 'u32'],
];

function matmulShader(a: QuantMatmulAttrs): string {
  const per = 32 / a.bits;
  const mask = (1 << a.bits) - 1;
  const shift = a.bits === 4 ? 3 : 2;
  const bindings = ['x', 'codes', 'scales'];
  if (a.hasZeros) bindings.push('zeros');
  if (a.hasColumns) bindings.push('columns');
  const decl = bindings
    .map(
      (name, i) =>
        `@group(0) @binding(${i}) var<storage, read> ${name}: array<${name === 'codes' || name === 'columns' ? 'u32' : 'f32'}>;`,
    )
    .join('\n');
  const n = bindings.length;
  const zero = a.hasZeros ? 'zeros[si]' : `${1 << (a.bits - 1)}.0`;
  const xcol = a.hasColumns ? 'columns[gk]' : 'gk';
  const gc = Math.ceil(a.k / a.groupSize);
  // The 4×4 accumulators are unrolled into scalars: drivers keep them in registers.
  const ij = [0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].map((j) => [i, j] as const));
  const ACC_DECL = ij.map(([i, j]) => `var acc${i}${j} = 0.0;`).join(' ');
  const INNER = [
    ...[0, 1, 2, 3].map((i) => `let a${i} = xs[(lid.y * 4u + ${i}u) * ${BK}u + t];`),
    ...[0, 1, 2, 3].map((j) => `let b${j} = ws[(lid.x * 4u + ${j}u) * ${BK}u + t];`),
    ...ij.map(([i, j]) => `acc${i}${j} = fma(a${i}, b${j}, acc${i}${j});`),
  ].join('\n      ');
  const STORE = ij
    .map(
      ([i, j]) =>
        `if (m0 + lid.y * 4u + ${i}u < u.m && n0 + lid.x * 4u + ${j}u < N) { y[(m0 + lid.y * 4u + ${i}u) * N + n0 + lid.x * 4u + ${j}u] = acc${i}${j}; }`,
    )
    .join('\n  ');
  // Shapes are compile-time constants, so divisions by them become multiplies and shifts.
  return /* wgsl */ `
${uniformStruct('Params', MATMUL_FIELDS)}
${decl}
@group(0) @binding(${n}) var<storage, read_write> y: array<f32>;
@group(0) @binding(${n + 1}) var<uniform> u: Params;
const N = ${a.n}u;
const K = ${a.k}u;
const KX = ${a.kx}u;
const RB = ${a.rowBlock}u;
const GS = ${a.groupSize}u;
const GC = ${gc}u;
var<workgroup> xs: array<f32, ${BLOCK * BK}>;
var<workgroup> ws: array<f32, ${BLOCK * BK}>;

@compute @workgroup_size(${WG}, ${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * ${WG}u + lid.x;
  let m0 = wid.y * ${BLOCK}u;
  let n0 = wid.x * ${BLOCK}u;
  ${ACC_DECL}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${BK}u) {
    for (var e = 0u; e < ${(BLOCK * BK) / (WG * WG)}u; e = e + 1u) {
      let idx = tid + e * ${WG * WG}u;
      let r = idx / ${BK}u;
      let c = idx % ${BK}u;
      let gk = k0 + c;
      let gm = m0 + r;
      var xv = 0.0;
      if (gm < u.m && gk < K) { xv = x[u.xOff + gm * KX + ${xcol}]; }
      xs[idx] = xv;
      let gn = n0 + r;
      var wv = 0.0;
      if (gn < N && gk < K) {
        let i = gn * K + gk;
        let code = (codes[i >> ${shift}u] >> ((i & ${per - 1}u) * ${a.bits}u)) & ${mask}u;
        let si = (gn / RB) * GC + gk / GS;
        wv = (f32(code) - ${zero}) * scales[si];
      }
      ws[idx] = wv;
    }
    workgroupBarrier();
    for (var t = 0u; t < ${BK}u; t = t + 1u) {
      ${INNER}
    }
    workgroupBarrier();
  }
  ${STORE}
}
`;
}

function dequantizeShader(a: QuantMatmulAttrs): string {
  const per = 32 / a.bits;
  const bindings = ['codes', 'scales'];
  if (a.hasZeros) bindings.push('zeros');
  if (a.hasColumns) bindings.push('columns');
  const decl = bindings
    .map(
      (name, i) =>
        `@group(0) @binding(${i}) var<storage, read> ${name}: array<${name === 'codes' || name === 'columns' ? 'u32' : 'f32'}>;`,
    )
    .join('\n');
  const n = bindings.length;
  return /* wgsl */ `
${decl}
@group(0) @binding(${n}) var<storage, read_write> w: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (i >= ${a.n * a.k}u) { return; }
  let r = i / ${a.k}u;
  let c = i % ${a.k}u;
  let code = (codes[i >> ${a.bits === 4 ? 3 : 2}u] >> ((i & ${per - 1}u) * ${a.bits}u)) & ${(1 << a.bits) - 1}u;
  let si = (r / ${a.rowBlock}u) * ${Math.ceil(a.k / a.groupSize)}u + c / ${a.groupSize}u;
  w[r * ${a.kx}u + ${a.hasColumns ? 'columns[c]' : 'c'}] = (f32(code) - ${a.hasZeros ? 'zeros[si]' : `${1 << (a.bits - 1)}.0`}) * scales[si];
}
`;
}

function referenceDequantize(
  b: Backend,
  ins: readonly TensorView[],
  w: TensorView,
  a: QuantMatmulAttrs,
): void {
  const [qv, sv] = ins;
  const q = host(qv!);
  const s = host(sv!);
  const z = a.hasZeros ? host(ins[2]!) : null;
  const colsView = a.hasColumns ? ins[a.hasZeros ? 3 : 2]! : null;
  const cols = colsView ? host(colsView) : null;
  const out = host(w);
  const store = (b as { float64?: boolean }).float64 === true ? (v: number) => v : Math.fround;
  const per = 32 / a.bits;
  const mask = (1 << a.bits) - 1;
  const gc = Math.ceil(a.k / a.groupSize);
  for (let r = 0; r < a.n; r++)
    for (let c = 0; c < a.k; c++) {
      const i = r * a.k + c;
      const code = (q[qv!.offset + Math.floor(i / per)]! >>> ((i % per) * a.bits)) & mask;
      const si = Math.floor(r / a.rowBlock) * gc + Math.floor(c / a.groupSize);
      const zero = z ? z[ins[2]!.offset + si]! : 1 << (a.bits - 1);
      const col = cols ? cols[colsView!.offset + c]! : c;
      out[w.offset + r * a.kx + col] = store((code - zero) * s[sv!.offset + si]!);
    }
}

const FAKE_FIELDS: readonly UniformField[] = [
  ['count', 'u32'],
  ['cols', 'u32'],
  ['rb', 'u32'],
  ['gs', 'u32'],
  ['gc', 'u32'],
  ['xOff', 'u32'],
  ['qmin', 'f32'],
  ['qmax', 'f32'],
];

const FAKE_SHADER = /* wgsl */ `
${uniformStruct('Params', FAKE_FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read> zeros: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> keep: array<f32>;
@group(0) @binding(5) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (i >= u.count) { return; }
  let r = i / u.cols;
  let c = i % u.cols;
  let si = (r / u.rb) * u.gc + c / u.gs;
  let s = scales[si];
  let z = zeros[si];
  let q = floor(x[u.xOff + i] / s + 0.5) + z;
  let qc = clamp(q, u.qmin, u.qmax);
  y[i] = (qc - z) * s;
  keep[i] = select(0.0, 1.0, q == qc);
}
`;

type HostArray = ArrayLike<number> & { [i: number]: number };
const host = (v: TensorView): HostArray => dataOf(v.handle) as HostArray;

function referenceMatmul(
  b: Backend,
  ins: readonly TensorView[],
  y: TensorView,
  a: QuantMatmulAttrs,
): void {
  const [xv, qv, sv] = ins;
  const x = host(xv!);
  const q = host(qv!);
  const s = host(sv!);
  const z = a.hasZeros ? host(ins[3]!) : null;
  const colsView = a.hasColumns ? ins[a.hasZeros ? 4 : 3]! : null;
  const cols = colsView ? host(colsView) : null;
  const out = host(y);
  const float64 = (b as { float64?: boolean }).float64 === true;
  const per = 32 / a.bits;
  const mask = (1 << a.bits) - 1;
  const gc = Math.ceil(a.k / a.groupSize);
  const w = new Float64Array(a.n * a.k);
  for (let r = 0; r < a.n; r++)
    for (let c = 0; c < a.k; c++) {
      const i = r * a.k + c;
      const code = (q[qv!.offset + Math.floor(i / per)]! >>> ((i % per) * a.bits)) & mask;
      const si = Math.floor(r / a.rowBlock) * gc + Math.floor(c / a.groupSize);
      const zero = z ? z[ins[3]!.offset + si]! : 1 << (a.bits - 1);
      w[i] = (code - zero) * s[sv!.offset + si]!;
    }
  for (let r = 0; r < a.m; r++)
    for (let n = 0; n < a.n; n++) {
      let acc = 0;
      for (let c = 0; c < a.k; c++) {
        const xc = cols ? cols[colsView!.offset + c]! : c;
        acc += x[xv!.offset + r * a.kx + xc]! * w[n * a.k + c]!;
      }
      out[y.offset + r * a.n + n] = float64 ? acc : Math.fround(acc);
    }
}

function referenceFakeQuant(
  b: Backend,
  ins: readonly TensorView[],
  outs: readonly TensorView[],
  a: FakeQuantAttrs,
): void {
  const [xv, sv, zv] = ins;
  const x = host(xv!);
  const s = host(sv!);
  const z = host(zv!);
  const [yv, kv] = outs;
  const y = host(yv!);
  const keep = host(kv!);
  const store = (b as { float64?: boolean }).float64 === true ? (v: number) => v : Math.fround;
  const gc = Math.ceil(a.cols / a.groupSize);
  for (let i = 0; i < a.rows * a.cols; i++) {
    const r = Math.floor(i / a.cols);
    const si = Math.floor(r / a.rowBlock) * gc + Math.floor((i % a.cols) / a.groupSize);
    const scale = s[sv!.offset + si]!;
    const zero = z[zv!.offset + si]!;
    const q = Math.floor(x[xv!.offset + i]! / scale + 0.5) + zero;
    const qc = Math.min(a.qmax, Math.max(a.qmin, q));
    y[yv!.offset + i] = store((qc - zero) * scale);
    keep[kv!.offset + i] = q === qc ? 1 : 0;
  }
}

let registered = false;

/** Registers {@link QUANT_MATMUL} and {@link FAKE_QUANT} on `webgpu`, `cpu` and `wasm` (idempotent; the ops call it). */
export function registerQuantKernels(): void {
  if (registered) return;
  registered = true;
  registerKernel<WebGpuBackend, QuantMatmulAttrs>(QUANT_MATMUL, 'webgpu', (b, ins, [y], a) => {
    b.dispatch({
      pipeline: b.pipeline(matmulShader(a)),
      buffers: [...ins, y!].map((v) => bufferOf(v, QUANT_MATMUL)),
      params: packUniforms(MATMUL_FIELDS, { m: a.m, xOff: ins[0]!.offset }),
      grid: [Math.ceil(a.n / BLOCK), Math.ceil(a.m / BLOCK)],
    });
  });
  registerKernel<WebGpuBackend, FakeQuantAttrs>(FAKE_QUANT, 'webgpu', (b, ins, outs, a) => {
    const count = a.rows * a.cols;
    b.dispatch({
      pipeline: b.pipeline(FAKE_SHADER),
      buffers: [...ins, ...outs].map((v) => bufferOf(v, FAKE_QUANT)),
      params: packUniforms(FAKE_FIELDS, {
        count,
        cols: a.cols,
        rb: a.rowBlock,
        gs: a.groupSize,
        gc: Math.ceil(a.cols / a.groupSize),
        xOff: ins[0]!.offset,
        qmin: a.qmin,
        qmax: a.qmax,
      }),
      grid: foldGrid(b, Math.ceil(count / WORKGROUP)),
    });
  });
  registerKernel<WebGpuBackend, QuantMatmulAttrs>(QUANT_DEQUANTIZE, 'webgpu', (b, ins, [w], a) => {
    b.dispatch({
      pipeline: b.pipeline(dequantizeShader(a)),
      buffers: [...ins, w!].map((v) => bufferOf(v, QUANT_DEQUANTIZE)),
      grid: foldGrid(b, Math.ceil((a.n * a.k) / WORKGROUP)),
    });
  });
  registerKernel<Backend, QuantMatmulAttrs>(QUANT_DEQUANTIZE, 'cpu', (b, ins, [w], a) =>
    referenceDequantize(b, ins, w!, a),
  );
  registerKernel<Backend, QuantMatmulAttrs>(QUANT_MATMUL, 'cpu', (b, ins, [y], a) =>
    referenceMatmul(b, ins, y!, a),
  );
  registerKernel<Backend, FakeQuantAttrs>(FAKE_QUANT, 'cpu', referenceFakeQuant);
  registerWasmFallbacks();
}
