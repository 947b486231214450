/**
 * WebGPU kernels of the indexing ops: `index_select` and `gather` (one shader:
 * each output element reads one strided input element or 0 for an out-of-range
 * index), `scatter_add`, and `index_select_grad` (the scatter-add behind
 * embedding's gradient). Also the small codegen helpers the join and
 * top-k/cumsum kernels share: uniform packing and strided index unravelling.
 *
 * WGSL has no f32 atomics, and float addition in racing order would not be
 * deterministic anyway, so no kernel here adds floats concurrently into one
 * place; see `index_select_grad` and `scatter_add` for how each avoids it.
 */
import type { TensorView } from '../../backend.js';
import { computeType, type DType, isHalf } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { contiguousStrides, sizeOf } from '../../shape.js';
import { gridFor, runElementwise, WORKGROUP } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, loadedType, storageType, storeExpr } from './wgsl-dtype.js';

/** WGSL type arithmetic on a dtype runs in (bool as u32). */
export type WgslScalar = 'f32' | 'i32' | 'u32';

/** WGSL access to element `i` of the uniform array field `name` (arrays are packed as vec4<u32>). */
export function at(name: string, i: number): string {
  return `p.${name}[${i >> 2}][${i & 3}]`;
}

/** A uniform struct (`Params`, bound as `p`) and its bytes. */
export interface Uniforms {
  struct: string;
  words: Uint32Array<ArrayBuffer>;
}

/**
 * Packs u32 scalars (negative numbers are stored as their two's-complement bits),
 * then arrays of `len` u32 each, into a WGSL struct `Params`.
 */
export function packUniforms(
  scalars: readonly (readonly [string, number])[],
  arrays: readonly (readonly [string, readonly number[]])[],
  len: number,
): Uniforms {
  const v = Math.max(1, Math.ceil(len / 4));
  const head = Math.max(4, Math.ceil(scalars.length / 4) * 4);
  const words = new Uint32Array(head + arrays.length * v * 4);
  const fields: string[] = [];
  scalars.forEach(([name, value], i) => {
    words[i] = value >>> 0;
    fields.push(`${name}: u32,`);
  });
  for (let i = scalars.length; i < head; i++) fields.push(`pad${i}: u32,`);
  arrays.forEach(([name, values], k) => {
    values.forEach((x, i) => (words[head + k * v * 4 + i] = x >>> 0));
    fields.push(`${name}: array<vec4<u32>, ${v}>,`);
  });
  return { struct: `struct Params {\n  ${fields.join('\n  ')}\n}`, words };
}

/**
 * WGSL that unravels the linear index `index` over the uniform shape `shape`
 * (rank `rank`), adding `c * stride[d]` to each listed offset variable (declared
 * by the caller) and running `extra(d)` with the coordinate `c` in scope.
 */
export function unravelCode(
  index: string,
  rank: number,
  shape: string,
  offsets: readonly (readonly [string, string])[],
  extra: (d: number) => string = () => '',
): string {
  const lines = [`var rem = ${index};`];
  for (let d = rank - 1; d >= 0; d--) {
    const adds = offsets.map(([v, s]) => `${v} = ${v} + c * ${at(s, d)};`).join(' ');
    lines.push(
      `{ let c = rem % ${at(shape, d)}; rem = rem / ${at(shape, d)}; ${adds} ${extra(d)} }`,
    );
  }
  return lines.join('\n  ');
}

/** The linear invocation index of a 1-D grid folded by `gridFor`. */
export const LINEAR_ID = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;

/** WGSL loading element `index` of binding `name` (holding `dtype`) converted to `to`. */
export function loadAs(name: string, dtype: DType, index: string, to: WgslScalar): string {
  const raw = loadExpr(name, dtype, index);
  return loadedType(dtype) === to ? raw : `${to}(${raw})`;
}

/** Kernels here never write 16-bit floats: execute() widens such outputs to f32 and casts. */
export function assertNotHalf(op: string, out: TensorView): void {
  if (isHalf(out.dtype))
    throw new Error(`internal: ${op} kernel asked to write ${out.dtype} directly`);
}

/** The GPU buffer behind a view. */
export function bufferOf(v: TensorView): GPUBuffer {
  return (v.handle as GpuStorage).buffer;
}

/**
 * Shared by index_select and gather: out[e] = x[xoff + Σ c_d·xs_d + t·xsAxis] where
 * t = index[ioff + Σ c_d·is_d], or 0 when t is outside [0, dim).
 */
function runGatherLike(
  b: WebGpuBackend,
  x: TensorView,
  index: TensorView,
  out: TensorView,
  axis: number,
  indexStrides: readonly number[],
): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  assertNotHalf('gather', out);
  const rank = out.shape.length;
  const t = computeType(out.dtype);
  const xs = x.strides.map((s, d) => (d === axis ? 0 : s));
  const u = packUniforms(
    [
      ['n', n],
      ['xoff', x.offset],
      ['ioff', index.offset],
      ['dim', x.shape[axis]!],
      ['xsAxis', x.strides[axis]!],
    ],
    [
      ['shape', out.shape],
      ['xs', xs],
      ['ixs', indexStrides],
    ],
    rank,
  );
  const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
@group(0) @binding(0) var<storage, read> x: array<${storageType(x.dtype)}>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = ${LINEAR_ID};
  if (e >= p.n) { return; }
  var ox = p.xoff;
  var oi = p.ioff;
  ${unravelCode('e', rank, 'shape', [
    ['ox', 'xs'],
    ['oi', 'ixs'],
  ])}
  let ti = index[oi];
  var v = ${t}(0);
  if (ti >= 0 && u32(ti) < p.dim) {
    let src = ox + u32(ti) * p.xsAxis;
    v = ${loadAs('x', x.dtype, 'src', t)};
  }
  out[e] = ${storeExpr(out.dtype, 'v', t)};
}`;
  b.dispatch({
    pipeline: b.pipeline(code),
    buffers: [bufferOf(x), bufferOf(index), bufferOf(out)],
    params: u.words.buffer,
    grid: gridFor(b, n),
  });
}

registerKernel<WebGpuBackend, { axis: number }>(
  'index_select',
  'webgpu',
  (b, [x, index], [out], { axis }) => {
    const is = out!.shape.map((_, d) => (d === axis ? (index!.strides[0] ?? 0) : 0));
    runGatherLike(b, x!, index!, out!, axis, is);
  },
);

registerKernel<WebGpuBackend, { axis: number }>(
  'gather',
  'webgpu',
  (b, [x, index], [out], { axis }) => runGatherLike(b, x!, index!, out!, axis, index!.strides),
);

/**
 * scatter_add: out = x, then out[.., index[.., j, ..], ..] += src[.., j, ..]. Every
 * line of `index` along `axis` writes only into its own line of `out`, so one
 * invocation per line walks j = 0, 1, … in order: no two invocations touch the
 * same element and the float sums happen in a fixed order. Parallelism is the
 * number of lines (e.g. rows of logits for a per-row target), which is where
 * scatter-add is used in training; a long 1-D scatter runs serially.
 */
registerKernel<WebGpuBackend, { axis: number }>(
  'scatter_add',
  'webgpu',
  (b, [x, index, src], [out], { axis }) => {
    if (sizeOf(out!.shape) === 0) return;
    assertNotHalf('scatter_add', out!);
    const t = computeType(out!.dtype);
    runElementwise(b, [x!], out!, 'v0', [t], t);
    const k = index!.shape[axis]!;
    const lineShape = index!.shape.map((d, i) => (i === axis ? 1 : d));
    const lines = sizeOf(lineShape);
    if (lines === 0 || k === 0) return;
    const rank = out!.shape.length;
    const os = contiguousStrides(out!.shape);
    const u = packUniforms(
      [
        ['lines', lines],
        ['k', k],
        ['ioff', index!.offset],
        ['soff', src!.offset],
        ['isAxis', index!.strides[axis]!],
        ['ssAxis', src!.strides[axis]!],
        ['osAxis', os[axis]!],
        ['dim', out!.shape[axis]!],
      ],
      [
        ['lshape', lineShape],
        ['ixs', index!.strides],
        ['ss', src!.strides],
        ['os', os],
      ],
      rank,
    );
    const code = `${WGSL_DTYPE_HELPERS}
${u.struct}
@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read> src: array<${storageType(src!.dtype)}>;
@group(0) @binding(2) var<storage, read_write> out: array<${storageType(out!.dtype)}>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let l = ${LINEAR_ID};
  if (l >= p.lines) { return; }
  var oi = p.ioff;
  var os = p.soff;
  var oo = 0u;
  ${unravelCode('l', rank, 'lshape', [
    ['oi', 'ixs'],
    ['os', 'ss'],
    ['oo', 'os'],
  ])}
  for (var j = 0u; j < p.k; j = j + 1u) {
    let ti = index[oi + j * p.isAxis];
    if (ti >= 0 && u32(ti) < p.dim) {
      let o = oo + u32(ti) * p.osAxis;
      let s = os + j * p.ssAxis;
      out[o] = out[o] + ${loadAs('src', src!.dtype, 's', t)};
    }
  }
}`;
    b.dispatch({
      pipeline: b.pipeline(code),
      buffers: [bufferOf(index!), bufferOf(src!), bufferOf(out!)],
      params: u.words.buffer,
      grid: gridFor(b, lines),
    });
  },
);

const SCAN_WG = 256;

/**
 * WGSL of an in-workgroup inclusive Hillis–Steele scan of `value` over the
 * `SCAN_WG`-wide workgroup array `buf`; leaves the inclusive prefix of this lane in
 * `buf[lid.x]` and the tile total in `buf[wg - 1]`. Must be reached in uniform control flow.
 */
export function tileScanCode(buf: string, value: string, type: WgslScalar, wg: number): string {
  return `${buf}[lid.x] = ${value};
    workgroupBarrier();
    for (var o = 1u; o < ${wg}u; o = o << 1u) {
      var add = ${type}(0);
      if (lid.x >= o) { add = ${buf}[lid.x - o]; }
      workgroupBarrier();
      ${buf}[lid.x] = ${buf}[lid.x] + add;
      workgroupBarrier();
    }`;
}

/**
 * index_select_grad: dx (zeros of x's shape) with g's slices along `axis` added at
 * `index`, deterministic and without float atomics. The ids are bucketed by a
 * stable counting sort (CSR) on the GPU, then every dx element sums its bucket:
 *
 * 1. One workgroup walks the ids in blocks of 256. Each lane's rank within its
 *    bucket is the count of equal ids in earlier lanes of the block (workgroup
 *    memory) plus the bucket's running count from earlier blocks; the block's last
 *    lane of each id advances the running count. The counts are then scanned in
 *    place into bucket starts. This is the only serial part: about k / 256
 *    blocks of ≤ 256 comparisons, plus n / 256 scan tiles.
 * 2. One invocation per id writes its position j to perm[start[id] + rank].
 * 3. One invocation per dx element sums g over its bucket, in increasing j.
 *
 * Buckets are stable (increasing j), so the float sums run in one fixed order,
 * and a skewed id distribution only lengthens the loops of the rows it hits.
 */
registerKernel<WebGpuBackend, { axis: number }>(
  'index_select_grad',
  'webgpu',
  (b, [g, index], [dx], { axis }) => {
    const total = sizeOf(dx!.shape);
    if (total === 0) return;
    assertNotHalf('index_select_grad', dx!);
    const n = dx!.shape[axis]!;
    const k = index!.shape[0]!;
    const counts = b.allocate('u32', n + 1);
    const ranks = b.allocate('u32', Math.max(k, 1));
    const perm = b.allocate('u32', Math.max(k, 1));
    const idx = `index[p.ioff + j * p.istride]`;

    const build = packUniforms(
      [
        ['n', n],
        ['k', k],
        ['ioff', index!.offset],
        ['istride', index!.strides[0] ?? 0],
      ],
      [],
      1,
    );
    const buildCode = `${build.struct}
@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> ranks: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> ids: array<i32, ${SCAN_WG}>;
var<workgroup> sums: array<u32, ${SCAN_WG}>;
@compute @workgroup_size(${SCAN_WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  for (var t = lid.x; t <= p.n; t = t + ${SCAN_WG}u) { counts[t] = 0u; }
  storageBarrier();
  for (var base = 0u; base < p.k; base = base + ${SCAN_WG}u) {
    let j = base + lid.x;
    var id = -1;
    if (j < p.k) {
      id = ${idx};
      if (id < 0 || u32(id) >= p.n) { id = -1; }
    }
    ids[lid.x] = id;
    workgroupBarrier();
    var r = 0u;
    var last = true;
    if (id >= 0) {
      for (var l = 0u; l < lid.x; l = l + 1u) { if (ids[l] == id) { r = r + 1u; } }
      for (var l = lid.x + 1u; l < ${SCAN_WG}u; l = l + 1u) { if (ids[l] == id) { last = false; break; } }
      r = r + counts[u32(id)];
      ranks[j] = r;
    }
    storageBarrier();
    if (id >= 0 && last) { counts[u32(id)] = r + 1u; }
    storageBarrier();
  }
  // Exclusive scan of counts[0..n) into bucket starts; counts[n] = total.
  var carry = 0u;
  for (var base = 0u; base < p.n; base = base + ${SCAN_WG}u) {
    let t = base + lid.x;
    var v = 0u;
    if (t < p.n) { v = counts[t]; }
    ${tileScanCode('sums', 'v', 'u32', SCAN_WG)}
    if (t < p.n) { counts[t] = carry + sums[lid.x] - v; }
    carry = carry + sums[${SCAN_WG - 1}];
    workgroupBarrier();
  }
  if (lid.x == 0u) { counts[p.n] = carry; }
}`;
    b.dispatch({
      pipeline: b.pipeline(buildCode),
      buffers: [bufferOf(index!), (counts as GpuStorage).buffer, (ranks as GpuStorage).buffer],
      params: build.words.buffer,
      grid: [1],
    });

    const placeCode = `${build.struct}
@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> ranks: array<u32>;
@group(0) @binding(3) var<storage, read_write> perm: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = ${LINEAR_ID};
  if (j >= p.k) { return; }
  let id = ${idx};
  if (id < 0 || u32(id) >= p.n) { return; }
  perm[starts[u32(id)] + ranks[j]] = j;
}`;
    b.dispatch({
      pipeline: b.pipeline(placeCode),
      buffers: [
        bufferOf(index!),
        (counts as GpuStorage).buffer,
        (ranks as GpuStorage).buffer,
        (perm as GpuStorage).buffer,
      ],
      params: build.words.buffer,
      grid: gridFor(b, k),
    });

    const rank = dx!.shape.length;
    const t = computeType(dx!.dtype);
    const sum = packUniforms(
      [
        ['n', total],
        ['goff', g!.offset],
        ['gsAxis', g!.strides[axis]!],
      ],
      [
        ['shape', dx!.shape],
        ['gs', g!.strides.map((s, d) => (d === axis ? 0 : s))],
        ['sel', dx!.shape.map((_, d) => (d === axis ? 1 : 0))],
      ],
      rank,
    );
    const sumCode = `${WGSL_DTYPE_HELPERS}
${sum.struct}
@group(0) @binding(0) var<storage, read> g: array<${storageType(g!.dtype)}>;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<${storageType(dx!.dtype)}>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = ${LINEAR_ID};
  if (e >= p.n) { return; }
  var og = p.goff;
  var row = 0u;
  ${unravelCode('e', rank, 'shape', [
    ['og', 'gs'],
    ['row', 'sel'],
  ])}
  var acc = ${t}(0);
  let stop = starts[row + 1u];
  for (var q = starts[row]; q < stop; q = q + 1u) {
    let src = og + perm[q] * p.gsAxis;
    acc = acc + ${loadAs('g', g!.dtype, 'src', t)};
  }
  out[e] = ${storeExpr(dx!.dtype, 'acc', t)};
}`;
    b.dispatch({
      pipeline: b.pipeline(sumCode),
      buffers: [
        bufferOf(g!),
        (counts as GpuStorage).buffer,
        (perm as GpuStorage).buffer,
        bufferOf(dx!),
      ],
      params: sum.words.buffer,
      grid: gridFor(b, total),
    });
    // Safe with the dispatches still pending: later users of these buffers run after them.
    for (const s of [counts, ranks, perm]) b.release(s);
  },
);
