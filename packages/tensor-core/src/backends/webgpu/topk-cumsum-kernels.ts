/**
 * WebGPU kernels of topk and cumsum. Both run one workgroup per line along the
 * axis (the line's elements may be strided; outputs are contiguous).
 *
 * topk compares u32 sort keys that order every value as the reference does: NaN
 * above +inf, -0 equal to +0, ties broken by the smaller index. Rows that fit in
 * workgroup memory (≤ 2048 elements) are bitonic-sorted there and the first k
 * written. Longer rows (vocabulary-sized logits) use a radix select: four
 * passes of 8-bit histograms in workgroup memory find the k-th key, one ordered
 * pass gathers the k winners (every key above it, and the first ties by index)
 * into scratch storage, and a bitonic sort of those k orders them.
 *
 * cumsum scans tiles of the line with a Hillis–Steele scan in workgroup memory,
 * carrying each tile's total into the next.
 */
import type { TensorView } from '../../backend.js';
import { computeType, type DType } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { gridFor, WORKGROUP } from './elementwise-codegen.js';
import {
  type WgslScalar,
  assertNotHalf,
  bufferOf,
  loadAs,
  packUniforms,
  tileScanCode,
  unravelCode,
} from './indexing-kernels.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, storageType, storeExpr } from './wgsl-dtype.js';

/** Workgroups for one per line, folded into 2D past the per-dimension limit. */
function linesGrid(b: WebGpuBackend, lines: number): [number, number] {
  return gridFor(b, lines * WORKGROUP);
}

/** Uniform fields and WGSL locating line `line`'s input base and output base. */
function lineLayout(x: TensorView, axis: number, outLen: number) {
  const rest = x.shape.filter((_, d) => d !== axis);
  const restStrides = x.strides.filter((_, d) => d !== axis);
  const lines = sizeOf(rest);
  const inner = sizeOf(x.shape.slice(axis + 1));
  const rank = Math.max(1, rest.length);
  const scalars: [string, number][] = [
    ['lines', lines],
    ['len', x.shape[axis]!],
    ['xoff', x.offset],
    ['xsAxis', x.strides[axis]!],
    ['inner', inner],
    ['outLen', outLen],
  ];
  const arrays: [string, readonly number[]][] = [
    ['rshape', rest.length === 0 ? [1] : rest],
    ['rs', rest.length === 0 ? [0] : restStrides],
  ];
  const locate = `let line = wid.x + wid.y * nw.x;
  if (line >= p.lines) { return; }
  var base = p.xoff;
  ${unravelCode('line', rank, 'rshape', [['base', 'rs']])}
  let obase = (line / p.inner) * p.outLen * p.inner + line % p.inner;`;
  return { lines, rank, scalars, arrays, locate };
}

const MAIN_ARGS =
  '@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>';

/** WGSL `fn sort_key(i: u32) -> u32`: the key of line element i; larger keys rank first. */
function sortKeyCode(dtype: DType, largest: boolean): string {
  const t = computeType(dtype);
  const load = loadAs('x', dtype, 'base + i * p.xsAxis', t);
  let key: string;
  if (t === 'f32') {
    key = `var b = bitcast<u32>(${load});
  if ((b & 0x7fffffffu) > 0x7f800000u) { b = 0xffffffffu; }
  else if ((b & 0x7fffffffu) == 0u) { b = 0x80000000u; }
  else if ((b & 0x80000000u) != 0u) { b = ~b; }
  else { b = b | 0x80000000u; }`;
  } else if (t === 'i32') {
    key = `let b = bitcast<u32>(${load}) ^ 0x80000000u;`;
  } else {
    key = `let b = ${load};`;
  }
  return `fn sort_key(base: u32, i: u32) -> u32 {
  ${key}
  return ${largest ? 'b' : '~b'};
}`;
}

/** WGSL of a bitonic sort (best first: larger key, then smaller id) of `keys`/`ids`[0..size) by a `wg`-wide workgroup. */
function bitonicCode(keys: string, ids: string, size: string, wg: number, barrier: string): string {
  return `for (var kk = 2u; kk <= ${size}; kk = kk << 1u) {
    for (var jj = kk >> 1u; jj > 0u; jj = jj >> 1u) {
      for (var i = lid.x; i < ${size}; i = i + ${wg}u) {
        let l = i ^ jj;
        if (l > i) {
          let ki = ${keys}[i]; let kl = ${keys}[l]; let ii = ${ids}[i]; let il = ${ids}[l];
          let lFirst = kl > ki || (kl == ki && il < ii);
          if (lFirst == ((i & kk) == 0u)) {
            ${keys}[i] = kl; ${keys}[l] = ki; ${ids}[i] = il; ${ids}[l] = ii;
          }
        }
      }
      ${barrier}
    }
  }`;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

registerKernel<WebGpuBackend, { axis: number; k: number; largest: boolean }>(
  'topk',
  'webgpu',
  (b, [x], [values, indices], { axis, k, largest }) => {
    if (sizeOf(values!.shape) === 0) return;
    assertNotHalf('topk', values!);
    const t = computeType(values!.dtype);
    const layout = lineLayout(x!, axis, k);
    const len = x!.shape[axis]!;
    // Workgroup memory holds 8 bytes (key, id) per element; 16 KiB is the portable floor.
    const limit = b.limits.maxComputeWorkgroupStorageSize;
    let cap = 2048;
    while (cap * 8 > limit) cap >>= 1;
    const writeOut = (keys: string, ids: string, wg: number, offset: string): string => `
  for (var q = lid.x; q < p.k; q = q + ${wg}u) {
    let id = ${ids}[${offset}q];
    let v = ${loadAs('x', x!.dtype, 'base + id * p.xsAxis', t)};
    values[obase + q * p.inner] = ${storeExpr(values!.dtype, 'v', t)};
    indices[obase + q * p.inner] = i32(id);
  }`;
    const head = (extra: [string, number][]) =>
      packUniforms([...layout.scalars, ['k', k], ...extra], layout.arrays, layout.rank);
    const bindings = `@group(0) @binding(0) var<storage, read> x: array<${storageType(x!.dtype)}>;
@group(0) @binding(1) var<storage, read_write> values: array<${storageType(values!.dtype)}>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;`;

    if (nextPow2(len) <= cap) {
      const size = nextPow2(len);
      const wg = Math.min(256, Math.max(32, size / 2));
      const u = head([]);
      const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
${bindings}
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> keys: array<u32, ${size}>;
var<workgroup> ids: array<u32, ${size}>;
${sortKeyCode(x!.dtype, largest)}
@compute @workgroup_size(${wg})
fn main(${MAIN_ARGS}) {
  ${layout.locate}
  for (var i = lid.x; i < ${size}u; i = i + ${wg}u) {
    if (i < p.len) { keys[i] = sort_key(base, i); ids[i] = i; }
    else { keys[i] = 0u; ids[i] = 0xffffffffu; }
  }
  workgroupBarrier();
  ${bitonicCode('keys', 'ids', `${size}u`, wg, 'workgroupBarrier();')}
  ${writeOut('keys', 'ids', wg, '')}
}`;
      b.dispatch({
        pipeline: b.pipeline(code),
        buffers: [bufferOf(x!), bufferOf(values!), bufferOf(indices!)],
        params: u.words.buffer,
        grid: linesGrid(b, layout.lines),
      });
      return;
    }

    const WG = 256;
    const slots = nextPow2(k);
    const scratchKeys = b.allocate('u32', layout.lines * slots);
    const scratchIds = b.allocate('u32', layout.lines * slots);
    const u = head([['slots', slots]]);
    const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
${bindings}
@group(0) @binding(3) var<storage, read_write> skeys: array<u32>;
@group(0) @binding(4) var<storage, read_write> sids: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> state: array<u32, 2>;
var<workgroup> flags: array<u32, ${WG}>;
var<workgroup> above: atomic<u32>;
${sortKeyCode(x!.dtype, largest)}
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${layout.locate}
  // Radix select: after pass r, prefix holds the top 8(r+1) bits of the k-th key
  // and want how many elements with that prefix still belong to the top k.
  var prefix = 0u;
  var mask = 0u;
  var want = p.k;
  for (var digit = 0u; digit < 4u; digit = digit + 1u) {
    let shift = 24u - 8u * digit;
    atomicStore(&hist[lid.x], 0u);
    workgroupBarrier();
    for (var i = lid.x; i < p.len; i = i + ${WG}u) {
      let key = sort_key(base, i);
      if ((key & mask) == prefix) { atomicAdd(&hist[(key >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (lid.x == 0u) {
      var cum = 0u;
      var bin = 0u;
      for (var h = 255i; h >= 0i; h = h - 1i) {
        let c = atomicLoad(&hist[h]);
        if (cum + c >= want) { bin = u32(h); break; }
        cum = cum + c;
      }
      state[0] = prefix | (bin << shift);
      state[1] = want - cum;
    }
    workgroupBarrier();
    prefix = state[0];
    want = state[1];
    mask = mask | (255u << shift);
    workgroupBarrier();
  }
  // Gather the winners: keys above the k-th key in any order (the sort fixes it),
  // and the first \`want\` keys equal to it in index order.
  let sbase = line * p.slots;
  let firstTie = p.k - want;
  if (lid.x == 0u) { atomicStore(&above, 0u); }
  workgroupBarrier();
  var taken = 0u;
  for (var t0 = 0u; t0 < p.len; t0 = t0 + ${WG}u) {
    let i = t0 + lid.x;
    var key = 0u;
    if (i < p.len) { key = sort_key(base, i); }
    if (i < p.len && key > prefix) {
      let slot = atomicAdd(&above, 1u);
      skeys[sbase + slot] = key;
      sids[sbase + slot] = i;
    }
    let tie = select(0u, 1u, i < p.len && key == prefix);
    ${tileScanCode('flags', 'tie', 'u32', WG)}
    let pos = taken + flags[lid.x] - 1u;
    if (tie == 1u && pos < want) {
      skeys[sbase + firstTie + pos] = key;
      sids[sbase + firstTie + pos] = i;
    }
    taken = taken + flags[${WG - 1}];
    workgroupBarrier();
  }
  for (var i = p.k + lid.x; i < p.slots; i = i + ${WG}u) {
    skeys[sbase + i] = 0u;
    sids[sbase + i] = 0xffffffffu;
  }
  storageBarrier();
  ${bitonicCode('skeys', 'sids', 'p.slots', WG, 'storageBarrier();').replace(/(skeys|sids)\[(i|l)\]/g, '$1[sbase + $2]')}
  ${writeOut('skeys', 'sids', WG, 'sbase + ')}
}`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [
        bufferOf(x!),
        bufferOf(values!),
        bufferOf(indices!),
        (scratchKeys as GpuStorage).buffer,
        (scratchIds as GpuStorage).buffer,
      ],
      params: u.words.buffer,
      grid: linesGrid(b, layout.lines),
    });
    b.release(scratchKeys);
    b.release(scratchIds);
  },
);

registerKernel<WebGpuBackend, { axis: number; reverse: boolean }>(
  'cumsum',
  'webgpu',
  (b, [x], [out], { axis, reverse }) => {
    if (sizeOf(out!.shape) === 0) return;
    assertNotHalf('cumsum', out!);
    const t: WgslScalar = computeType(out!.dtype);
    const len = x!.shape[axis]!;
    const layout = lineLayout(x!, axis, len);
    // Short lines would leave most of a 256-wide workgroup idle.
    const wg = len <= 64 ? 64 : 256;
    const u = packUniforms(
      [...layout.scalars, ['rev', reverse ? 1 : 0]],
      layout.arrays,
      layout.rank,
    );
    const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x!.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out!.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> sums: array<${t}, ${wg}>;
@compute @workgroup_size(${wg})
fn main(${MAIN_ARGS}) {
  ${layout.locate}
  var carry = ${t}(0);
  for (var t0 = 0u; t0 < p.len; t0 = t0 + ${wg}u) {
    let s = t0 + lid.x;
    let j = select(s, p.len - 1u - s, p.rev == 1u);
    var v = ${t}(0);
    if (s < p.len) { v = ${loadAs('x', x!.dtype, 'base + j * p.xsAxis', t)}; }
    ${tileScanCode('sums', 'v', t, wg)}
    if (s < p.len) {
      let r = carry + sums[lid.x];
      out[obase + j * p.inner] = ${storeExpr(out!.dtype, 'r', t)};
    }
    carry = carry + sums[${wg - 1}];
    workgroupBarrier();
  }
}`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [bufferOf(x!), bufferOf(out!)],
      params: u.words.buffer,
      grid: linesGrid(b, layout.lines),
    });
  },
);
