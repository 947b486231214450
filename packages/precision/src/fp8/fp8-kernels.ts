/**
 * Kernels of FP8 storage: block scales from each block's largest magnitude,
 * quantisation into packed codes (four per u32 word, element i in byte i % 4
 * of word i / 4, low byte first), dequantisation, and a matmul whose weight
 * operand stays in FP8 and is dequantised inside the kernel.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import { registerWasmFallbacks } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
  WGSL_HALF,
  WORKGROUP,
  bufferOf,
  dataOf,
  floatStore,
  foldGrid,
  loadF32,
  packUniforms,
  uniformStruct,
  wgslType,
  type UniformField,
} from '../kernels/gpu-util.js';
import { FP8_FORMATS, decodeFp8, encodeFp8, type Fp8Format } from './format.js';
import { pow2Scale, wgslPow2Scale } from './scale.js';
import { WGSL_FP8 } from './wgsl-fp8.js';

/** Op computing block scales: inputs `[x]` (contiguous, rows × cols), output `[scales]` f32. */
export const FP8_SCALES = 'precision_fp8_scales';
/** Op packing codes: inputs `[x, scales]`, output `[codes]` u32 of ceil(n / 4) words. */
export const FP8_QUANTIZE = 'precision_fp8_quantize';
/** Op unpacking codes: inputs `[codes, scales]`, output `[y]` f32 of n values. */
export const FP8_DEQUANTIZE = 'precision_fp8_dequantize';
/** Op `y = x · Wᵀ` with W in FP8: inputs `[x (M×K), codes (N×K), scales]`, output `[y]` f32 M×N. */
export const FP8_MATMUL = 'precision_fp8_matmul';

/** Attributes of the block-scaled FP8 kernels. */
export interface Fp8BlockAttrs {
  format: Fp8Format;
  /** The matrix the codes describe: rows × cols (leading dims folded into rows). */
  rows: number;
  cols: number;
  /** Block shape: scales have ceil(rows / blockRows) × ceil(cols / blockCols) entries. */
  blockRows: number;
  blockCols: number;
  /** Quantise only: clamp overflow to ±max. */
  saturate?: boolean;
}

/** Attributes of {@link FP8_MATMUL}: x is m × k, the weight n × k with its block attrs. */
export interface Fp8MatmulAttrs extends Fp8BlockAttrs {
  m: number;
}

const BLOCK_FIELDS: readonly UniformField[] = [
  ['rows', 'u32'],
  ['cols', 'u32'],
  ['br', 'u32'],
  ['bc', 'u32'],
  ['sc', 'u32'],
  ['xOff', 'u32'],
  ['saturate', 'u32'],
];

const HEADER = `${WGSL_HALF}\n${WGSL_FP8}\n${wgslPow2Scale(FP8_FORMATS.e4m3)}\n${wgslPow2Scale(FP8_FORMATS.e5m2)}`;

function scalesShader(format: Fp8Format, dtype: string): string {
  return /* wgsl */ `
${HEADER}
${uniformStruct('Params', BLOCK_FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<${wgslType(dtype)}>;
@group(0) @binding(1) var<storage, read_write> scales: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;
var<workgroup> partial: array<u32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let block = wid.x + wid.y * ${/* wgsl */ 'u.sc'};
  let r0 = wid.y * u.br;
  let c0 = wid.x * u.bc;
  let nr = min(u.br, u.rows - r0);
  let nc = min(u.bc, u.cols - c0);
  var amax = 0u;
  for (var i = lid.x; i < nr * nc; i = i + ${WORKGROUP}u) {
    let idx = u.xOff + (r0 + i / nc) * u.cols + c0 + i % nc;
    amax = max(amax, bitcast<u32>(${loadF32('x', dtype, 'idx')}) & 0x7fffffffu);
  }
  partial[lid.x] = amax;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { partial[lid.x] = max(partial[lid.x], partial[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) { scales[block] = fp8_${format}_scale(partial[0]); }
}
`;
}

function quantizeShader(format: Fp8Format, dtype: string): string {
  return /* wgsl */ `
${HEADER}
${uniformStruct('Params', BLOCK_FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<${wgslType(dtype)}>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read_write> codes: array<u32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = ${FLAT_INDEX};
  let n = u.rows * u.cols;
  if (w * 4u >= n) { return; }
  var word = 0u;
  for (var j = 0u; j < 4u; j = j + 1u) {
    let i = w * 4u + j;
    if (i < n) {
      let r = i / u.cols;
      let c = i % u.cols;
      let s = scales[(r / u.br) * u.sc + c / u.bc];
      // 2^-k from 2^k's exponent field: exact, unlike 1.0 / s.
      let inv = bitcast<f32>((254u - ((bitcast<u32>(s) >> 23u) & 0xffu)) << 23u);
      let v = ${loadF32('x', dtype, 'u.xOff + i')};
      var code = fp8_${format}_encode(v * inv, u.saturate != 0u);
      if ((bitcast<u32>(s) & 0x7f800000u) == 0x7f800000u) { code = ${FP8_FORMATS[format].nanCode}u; }
      word = word | (code << (j * 8u));
    }
  }
  codes[w] = word;
}
`;
}

function dequantizeShader(format: Fp8Format): string {
  return /* wgsl */ `
${HEADER}
${uniformStruct('Params', BLOCK_FIELDS)}
@group(0) @binding(0) var<storage, read> codes: array<u32>;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.rows * u.cols) { return; }
  let r = i / u.cols;
  let c = i % u.cols;
  let code = (codes[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
  y[i] = fp8_${format}_decode(code) * scales[(r / u.br) * u.sc + c / u.bc];
}
`;
}

const TILE = 16;

const MATMUL_FIELDS: readonly UniformField[] = [
  ['m', 'u32'],
  ['n', 'u32'],
  ['k', 'u32'],
  ['br', 'u32'],
  ['bc', 'u32'],
  ['sc', 'u32'],
  ['xOff', 'u32'],
];

function matmulShader(format: Fp8Format, dtype: string): string {
  return /* wgsl */ `
${HEADER}
${uniformStruct('Params', MATMUL_FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<${wgslType(dtype)}>;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;
var<workgroup> xs: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> ws: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  let wrow = wid.x * ${TILE}u + lid.y;
  var acc = 0.0;
  for (var k0 = 0u; k0 < u.k; k0 = k0 + ${TILE}u) {
    let kx = k0 + lid.x;
    var xv = 0.0;
    if (row < u.m && kx < u.k) { xv = ${loadF32('x', dtype, 'u.xOff + row * u.k + kx')}; }
    xs[lid.y][lid.x] = xv;
    var wv = 0.0;
    if (wrow < u.n && kx < u.k) {
      let i = wrow * u.k + kx;
      let code = (codes[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
      wv = fp8_${format}_decode(code) * scales[(wrow / u.br) * u.sc + kx / u.bc];
    }
    ws[lid.y][lid.x] = wv;
    workgroupBarrier();
    for (var t = 0u; t < ${TILE}u; t = t + 1u) {
      acc = acc + xs[lid.y][t] * ws[lid.x][t];
    }
    workgroupBarrier();
  }
  if (row < u.m && col < u.n) { y[row * u.n + col] = acc; }
}
`;
}

function blockUniforms(a: Fp8BlockAttrs, xOff: number): ArrayBuffer {
  return packUniforms(BLOCK_FIELDS, {
    rows: a.rows,
    cols: a.cols,
    br: a.blockRows,
    bc: a.blockCols,
    sc: Math.ceil(a.cols / a.blockCols),
    xOff,
    saturate: a.saturate ? 1 : 0,
  });
}

function scaleIndex(a: Fp8BlockAttrs, i: number): number {
  const r = Math.floor(i / a.cols);
  const c = i % a.cols;
  return (
    Math.floor(r / a.blockRows) * Math.ceil(a.cols / a.blockCols) + Math.floor(c / a.blockCols)
  );
}

let registered = false;

/** Registers the FP8 kernels for the `webgpu` and `cpu` backends (idempotent; called on first use). */
export function registerFp8Kernels(): void {
  if (registered) return;
  registered = true;

  registerKernel<WebGpuBackend, Fp8BlockAttrs>(FP8_SCALES, 'webgpu', (b, [x], [s], a) => {
    const sr = Math.ceil(a.rows / a.blockRows);
    const sc = Math.ceil(a.cols / a.blockCols);
    b.dispatch({
      pipeline: b.pipeline(scalesShader(a.format, x!.dtype)),
      buffers: [bufferOf(x!, FP8_SCALES), bufferOf(s!, FP8_SCALES)],
      params: blockUniforms(a, x!.offset),
      grid: [sc, sr],
    });
  });
  registerKernel<WebGpuBackend, Fp8BlockAttrs>(FP8_QUANTIZE, 'webgpu', (b, [x, s], [q], a) => {
    const words = Math.ceil((a.rows * a.cols) / 4);
    b.dispatch({
      pipeline: b.pipeline(quantizeShader(a.format, x!.dtype)),
      buffers: [x!, s!, q!].map((v) => bufferOf(v, FP8_QUANTIZE)),
      params: blockUniforms(a, x!.offset),
      grid: foldGrid(b, Math.ceil(words / WORKGROUP)),
    });
  });
  registerKernel<WebGpuBackend, Fp8BlockAttrs>(FP8_DEQUANTIZE, 'webgpu', (b, [q, s], [y], a) => {
    b.dispatch({
      pipeline: b.pipeline(dequantizeShader(a.format)),
      buffers: [q!, s!, y!].map((v) => bufferOf(v, FP8_DEQUANTIZE)),
      params: blockUniforms(a, 0),
      grid: foldGrid(b, Math.ceil((a.rows * a.cols) / WORKGROUP)),
    });
  });
  registerKernel<WebGpuBackend, Fp8MatmulAttrs>(FP8_MATMUL, 'webgpu', (b, [x, q, s], [y], a) => {
    b.dispatch({
      pipeline: b.pipeline(matmulShader(a.format, x!.dtype)),
      buffers: [x!, q!, s!, y!].map((v) => bufferOf(v, FP8_MATMUL)),
      params: packUniforms(MATMUL_FIELDS, {
        m: a.m,
        n: a.rows,
        k: a.cols,
        br: a.blockRows,
        bc: a.blockCols,
        sc: Math.ceil(a.cols / a.blockCols),
        xOff: x!.offset,
      }),
      grid: [Math.ceil(a.rows / TILE), Math.ceil(a.m / TILE)],
    });
  });

  registerKernel<Backend, Fp8BlockAttrs>(FP8_SCALES, 'cpu', (_b, [xv], [sv], a) => {
    const x = dataOf(xv!, FP8_SCALES);
    const s = dataOf(sv!, FP8_SCALES);
    const amax = new Float64Array(s.length);
    for (let i = 0; i < a.rows * a.cols; i++) {
      const v = Math.abs(Math.fround(x[xv!.offset + i]!));
      const j = scaleIndex(a, i);
      // NaN wins, as the device's integer max of |bits| makes it.
      if (Number.isNaN(v)) amax[j] = NaN;
      else if (v > amax[j]!) amax[j] = v;
    }
    amax.forEach((m, j) => (s[sv!.offset + j] = pow2Scale(m, FP8_FORMATS[a.format])));
  });
  registerKernel<Backend, Fp8BlockAttrs>(FP8_QUANTIZE, 'cpu', (_b, [xv, sv], [qv], a) => {
    const x = dataOf(xv!, FP8_QUANTIZE);
    const s = dataOf(sv!, FP8_QUANTIZE);
    const q = dataOf(qv!, FP8_QUANTIZE);
    const n = a.rows * a.cols;
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < n; i++) {
      const scale = s[sv!.offset + scaleIndex(a, i)]!;
      const code = Number.isFinite(scale)
        ? encodeFp8(Math.fround(x[xv!.offset + i]!) / scale, a.format, { saturate: !!a.saturate })
        : FP8_FORMATS[a.format].nanCode;
      words[i >> 2] = (words[i >> 2]! | (code << ((i & 3) * 8))) >>> 0;
    }
    words.forEach((w, i) => (q[qv!.offset + i] = w));
  });
  registerKernel<Backend, Fp8BlockAttrs>(FP8_DEQUANTIZE, 'cpu', (b, [qv, sv], [yv], a) => {
    const q = dataOf(qv!, FP8_DEQUANTIZE);
    const s = dataOf(sv!, FP8_DEQUANTIZE);
    const y = dataOf(yv!, FP8_DEQUANTIZE);
    const store = floatStore(b);
    for (let i = 0; i < a.rows * a.cols; i++) {
      const code = (q[qv!.offset + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff;
      y[yv!.offset + i] = store(decodeFp8(code, a.format) * s[sv!.offset + scaleIndex(a, i)]!);
    }
  });
  registerKernel<Backend, Fp8MatmulAttrs>(FP8_MATMUL, 'cpu', (b, [xv, qv, sv], [yv], a) => {
    const x = dataOf(xv!, FP8_MATMUL);
    const q = dataOf(qv!, FP8_MATMUL);
    const s = dataOf(sv!, FP8_MATMUL);
    const y = dataOf(yv!, FP8_MATMUL);
    const store = floatStore(b);
    const n = a.rows;
    const k = a.cols;
    const w = new Float64Array(n * k);
    for (let i = 0; i < n * k; i++) {
      const code = (q[qv!.offset + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff;
      w[i] = decodeFp8(code, a.format) * s[sv!.offset + scaleIndex(a, i)]!;
    }
    for (let r = 0; r < a.m; r++) {
      for (let c = 0; c < n; c++) {
        let acc = 0;
        for (let t = 0; t < k; t++) acc += x[xv!.offset + r * k + t]! * w[c * k + t]!;
        y[yv!.offset + r * n + c] = store(acc);
      }
    }
  });
  // The reference kernels run unchanged on the WebAssembly backend's storage.
  registerWasmFallbacks();
}
