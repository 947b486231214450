/**
 * WebGPU kernel of matmul. Products whose B is unit-stride along N (after a
 * transposing copy when B is a transposed view) and whose N is a multiple of 4
 * run the barrier-free register-blocked kernel of matmul-direct.ts with the
 * tile the tuner chose for this adapter; everything else runs the shared-memory
 * kernel below.
 *
 * Shared-memory kernel: 64×64 output tiles per workgroup of 16×16
 * invocations, each accumulating a 4×4 register block in f32 over K in steps
 * of 16 staged through workgroup memory. Operands are read in place through
 * their row, column and batch strides (transposed views need no copy); the
 * tile loads are specialised on whether each operand is row- or column-major
 * so that neighbouring invocations read neighbouring addresses. Batches run
 * along grid z (folded into y past the per-dimension limit).
 */
import type { TensorView } from '../../backend.js';
import { isHalf } from '../../dtype.js';
import { getKernel, registerKernel } from '../../registry.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../../shape.js';
import { type Epilogue, directPlan, dispatchDirect } from './matmul-direct.js';
import { tileFor } from './matmul-tuner.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType, storeExpr } from './wgsl-dtype.js';

const TM = 64;
const TN = 64;
const TK = 16;
const THREADS = 256;

/** Which index the invocations of a tile load walk fastest: the one with unit stride. */
type Fast = 'k' | 'mn';

function shader(
  a: TensorView,
  b: TensorView,
  out: TensorView,
  aFast: Fast,
  bFast: Fast,
  bv: number,
): string {
  // A tile is TM rows × TK; B tile is TK × TN. Each invocation loads 4 elements of each.
  const aIdx =
    aFast === 'k'
      ? `let r = idx / ${TK}u; let kk = idx % ${TK}u;`
      : `let r = idx % ${TM}u; let kk = idx / ${TM}u;`;
  const bIdx =
    bFast === 'mn'
      ? `let kk = idx / ${TN}u; let c = idx % ${TN}u;`
      : `let c = idx / ${TK}u; let kk = idx % ${TK}u;`;
  return `${WGSL_DTYPE_HELPERS}
struct Params {
  m: u32, n: u32, k: u32, batch: u32,
  aOff: u32, aRs: u32, aCs: u32, bOff: u32,
  bRs: u32, bCs: u32, tilesY: u32, foldY: u32,
  batchRank: u32, pad0: u32, pad1: u32, pad2: u32,
  shape: array<vec4<u32>, ${bv}>,
  aStride: array<vec4<u32>, ${bv}>,
  bStride: array<vec4<u32>, ${bv}>,
}
@group(0) @binding(0) var<storage, read> a: array<${storageType(a.dtype)}>;
@group(0) @binding(1) var<storage, read> b: array<${storageType(b.dtype)}>;
@group(0) @binding(2) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<f32, ${TK * TN}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let batch = wid.z * p.foldY + wid.y / p.tilesY;
  if (batch >= p.batch) { return; }
  let row0 = (wid.y % p.tilesY) * ${TM}u;
  let col0 = wid.x * ${TN}u;
  var aBase = p.aOff;
  var bBase = p.bOff;
  var rem = batch;
  for (var d = i32(p.batchRank) - 1; d >= 0; d = d - 1) {
    let dim = p.shape[d >> 2u][d & 3];
    let c = rem % dim;
    rem = rem / dim;
    aBase = aBase + c * p.aStride[d >> 2u][d & 3];
    bBase = bBase + c * p.bStride[d >> 2u][d & 3];
  }
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 = k0 + ${TK}u) {
    for (var i = 0u; i < 4u; i = i + 1u) {
      let idx = li + i * ${THREADS}u;
      {
        ${aIdx}
        let gr = row0 + r;
        let gk = k0 + kk;
        var v = 0.0;
        if (gr < p.m && gk < p.k) { v = f32(${loadExpr('a', a.dtype, 'aBase + gr * p.aRs + gk * p.aCs')}); }
        As[kk * ${TM}u + r] = v;
      }
      {
        ${bIdx}
        let gc = col0 + c;
        let gk = k0 + kk;
        var v = 0.0;
        if (gc < p.n && gk < p.k) { v = f32(${loadExpr('b', b.dtype, 'bBase + gk * p.bRs + gc * p.bCs')}); }
        Bs[kk * ${TN}u + c] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      var av: array<f32, 4>;
      var bw: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        av[i] = As[kk * ${TM}u + lid.y + 16u * i];
        bw[i] = Bs[kk * ${TN}u + lid.x + 16u * i];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          acc[i][j] = fma(av[i], bw[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  let outBase = batch * p.m * p.n;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y + 16u * i;
    if (r >= p.m) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x + 16u * j;
      if (c < p.n) { out[outBase + r * p.n + c] = ${storeExpr(out.dtype, 'acc[i][j]', 'f32')}; }
    }
  }
}
`;
}

/** Batch strides of an operand broadcast to the output's batch dims. */
function batchStrides(v: TensorView, batch: readonly number[]): number[] {
  const r = v.shape.length;
  return broadcastStrides(v.shape.slice(0, r - 2), v.strides.slice(0, r - 2), batch);
}

/** The tile-load order for an operand: walk the unit-stride index fastest. */
function fastIndex(innerStride: number, outerStride: number, along: Fast, other: Fast): Fast {
  if (innerStride === 1) return along;
  if (outerStride === 1) return other;
  return along;
}

/**
 * A contiguous copy of B (`[...batchB, K, N]`, row-major) when B is a transposed view
 * (unit stride along K), so the direct kernel can read it along N. The caller releases it.
 */
function transposedCopy(backend: WebGpuBackend, b: TensorView): TensorView | null {
  const r = b.shape.length;
  const [brs, bcs] = [b.strides[r - 2]!, b.strides[r - 1]!];
  if (bcs === 1 || brs !== 1) return null;
  if (b.dtype !== 'f32' && b.dtype !== 'f16' && b.dtype !== 'bf16') return null;
  // The copy kernel widens 16-bit values to f32 (it writes 32-bit words).
  const elements = sizeOf(b.shape);
  const handle = backend.allocate('f32', elements);
  const view: TensorView = {
    handle,
    dtype: 'f32',
    shape: b.shape,
    strides: contiguousStrides(b.shape),
    offset: 0,
  };
  getKernel('copy', 'webgpu')(backend, [b], [view], {});
  return view;
}

/**
 * Encodes `out = epilogue(a · b)` with the direct kernel where it applies (see the
 * module comment). Returns false, encoding nothing, where it does not.
 */
export function encodeDirect(
  backend: WebGpuBackend,
  a: TensorView,
  b: TensorView,
  out: TensorView,
  epi?: Epilogue,
): boolean {
  const rank = out.shape.length;
  const batchShape = out.shape.slice(0, rank - 2);
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  // The epilogue reads the bias as vec4s.
  if (epi?.bias && epi.bias.offset % 4 !== 0) return false;
  let bView = b;
  let temp: TensorView | null = null;
  let mode = directPlan(a, b, out, batchShape);
  if (mode === null && n % 4 === 0 && out.dtype === 'f32') {
    temp = transposedCopy(backend, b);
    if (temp) {
      bView = temp;
      mode = directPlan(a, temp, out, batchShape);
    }
  }
  if (mode === null) {
    if (temp) backend.release(temp.handle);
    return false;
  }
  const tile = tileFor(backend, mode, m, n, sizeOf(batchShape));
  dispatchDirect(backend, a, bView, out, mode, tile, epi);
  // Safe while the dispatch is pending: later users of the pooled buffer run after it.
  if (temp) backend.release(temp.handle);
  return true;
}

/** Encodes the shared-memory kernel (any strides, any N). */
export function encodeShared(
  backend: WebGpuBackend,
  a: TensorView,
  b: TensorView,
  out: TensorView,
): void {
  const rank = out.shape.length;
  const batchShape = out.shape.slice(0, rank - 2);
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  const k = a.shape[a.shape.length - 1]!;
  const batch = sizeOf(batchShape);
  if (m === 0 || n === 0 || batch === 0) return;
  const [ars, acs] = a.strides.slice(-2) as [number, number];
  const [brs, bcs] = b.strides.slice(-2) as [number, number];
  // Unit stride along K makes A's tile walk K fastest; along M, M fastest. B likewise with N.
  const aFast = fastIndex(acs, ars, 'k', 'mn');
  const bFast = fastIndex(bcs, brs, 'mn', 'k');
  const batchRank = batchShape.length;
  const bv = Math.max(1, Math.ceil(batchRank / 4));
  const limits = backend.limits;
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  const tilesX = Math.ceil(n / TN);
  const tilesY = Math.ceil(m / TM);
  const foldY = Math.ceil(batch / maxDim);
  const gridZ = Math.ceil(batch / foldY);
  if (tilesX > maxDim || tilesY * foldY > maxDim) {
    throw new RangeError(
      `matmul: output [${out.shape.join(',')}] needs a grid of ${tilesX}×${tilesY * foldY} workgroups; this adapter allows ${maxDim} per dimension`,
    );
  }
  const words = new Uint32Array(16 + 3 * bv * 4);
  words.set([m, n, k, batch, a.offset, ars, acs, b.offset, brs, bcs, tilesY, foldY, batchRank]);
  const as = batchStrides(a, batchShape);
  const bs = batchStrides(b, batchShape);
  batchShape.forEach((d, i) => {
    words[16 + i] = d;
    words[16 + bv * 4 + i] = as[i]!;
    words[16 + 2 * bv * 4 + i] = bs[i]!;
  });
  backend.dispatch({
    pipeline: backend.pipeline(shader(a, b, out, aFast, bFast, bv)),
    buffers: [
      (a.handle as GpuStorage).buffer,
      (b.handle as GpuStorage).buffer,
      (out.handle as GpuStorage).buffer,
    ],
    params: words.buffer,
    grid: [tilesX, tilesY * foldY, gridZ],
  });
}

/** Which kernel family products use: 'auto' (direct where it applies) or 'shared' (for benchmarks). */
let family: 'auto' | 'shared' = 'auto';

/** Selects the kernel family of later products (benchmarks compare them); returns the previous one. */
export function setMatmulFamily(next: 'auto' | 'shared'): 'auto' | 'shared' {
  const prev = family;
  family = next;
  return prev;
}

registerKernel<WebGpuBackend, unknown>('matmul', 'webgpu', (backend, [a, b], [c]) => {
  const out = c!;
  if (isHalf(out.dtype)) throw new Error('internal: matmul writes f32; execute() casts to 16-bit');
  const rank = out.shape.length;
  if (out.shape[rank - 2] === 0 || out.shape[rank - 1] === 0 || sizeOf(out.shape) === 0) return;
  if (family === 'auto' && encodeDirect(backend, a!, b!, out)) return;
  encodeShared(backend, a!, b!, out);
});
