/**
 * Gradient norms on the device without atomics or readbacks, in two kernels.
 * `optim_norm_partials` reduces one tensor into `PARTS` partial results (a
 * fixed number of workgroups striding over it) at its slot of a shared
 * `[count·PARTS]` buffer. `optim_norm_finish` then runs one workgroup per
 * tensor, writing each tensor's norm into `norms[count]`, plus one more that
 * combines every partial into the total norm `total[1]`.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import { dataOf, floatStore, readView } from './cpu-util.js';
import {
  FLAT_GROUP,
  WORKGROUP,
  assertBindable,
  bufferOf,
  foldGrid,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './webgpu-util.js';

/** Op name of the per-tensor partial reduction. */
export const NORM_PARTIALS = 'optim_norm_partials';
/** Op name of the per-tensor and total norm from partials. */
export const NORM_FINISH = 'optim_norm_finish';

/** Partial results per tensor: enough workgroups to keep a GPU busy on large tensors. */
export const PARTS = 64;

/** How a norm accumulates: sum of squares, of absolute values, of |x|^p, or max |x|. */
export type NormKind = 'l2' | 'l1' | 'lp' | 'inf';

/** The accumulation rule of a norm order (`2`, `1`, `Infinity` or any other p > 0). */
export function normKind(p: number): NormKind {
  if (p === 2) return 'l2';
  if (p === 1) return 'l1';
  if (p === Infinity) return 'inf';
  return 'lp';
}

/** Attributes of {@link NORM_PARTIALS}. */
export interface NormPartialsAttrs {
  kind: NormKind;
  p: number;
  /** Which tensor of the batch this is: partials land at `[slot·PARTS, (slot+1)·PARTS)`. */
  slot: number;
}

/** Attributes of {@link NORM_FINISH}. */
export interface NormFinishAttrs {
  kind: NormKind;
  p: number;
  /** Number of tensors reduced into the partials. */
  count: number;
}

/** WGSL of the accumulation rule, specialised per kind (the hot loop has no branches). */
function rules(kind: NormKind): string {
  const term = {
    l2: 'a * a',
    l1: 'a',
    inf: 'a',
    lp: 'select(0.0, pow(a, p), a > 0.0)',
  }[kind];
  return /* wgsl */ `
var<workgroup> red: array<f32, ${WORKGROUP}>;
fn term(x: f32, p: f32) -> f32 {
  let a = abs(x);
  return ${term};
}
fn combine(a: f32, b: f32) -> f32 {
  return ${kind === 'inf' ? 'max(a, b)' : 'a + b'};
}
fn root(s: f32, invP: f32) -> f32 {
  return ${kind === 'l2' ? 'sqrt(s)' : kind === 'lp' ? 'pow(s, invP)' : 's'};
}
fn reduce_workgroup(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = combine(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  return red[0];
}
`;
}

const PARTIAL_FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['xOff', 'u32'],
  ['outOff', 'u32'],
  ['p', 'f32'],
];

const partialShader = (kind: NormKind): string => /* wgsl */ `
${uniformStruct('Params', PARTIAL_FIELDS)}
${rules(kind)}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var acc = 0.0;
  for (var i = wid.x * ${WORKGROUP}u + lid.x; i < u.n; i = i + ${PARTS * WORKGROUP}u) {
    acc = combine(acc, term(x[u.xOff + i], u.p));
  }
  let r = reduce_workgroup(acc, lid.x);
  if (lid.x == 0u) { partials[u.outOff + wid.x] = r; }
}
`;

const FINISH_FIELDS: readonly UniformField[] = [
  ['count', 'u32'],
  ['invP', 'f32'],
  ['normsOff', 'u32'],
  ['totalOff', 'u32'],
];

const finishShader = (kind: NormKind): string => /* wgsl */ `
${uniformStruct('Params', FINISH_FIELDS)}
${rules(kind)}
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> norms: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let k = ${FLAT_GROUP};
  if (k > u.count) { return; }
  // Workgroup k < count finishes tensor k; workgroup count combines all partials.
  let start = select(0u, k * ${PARTS}u, k < u.count);
  let len = select(u.count * ${PARTS}u, ${PARTS}u, k < u.count);
  var acc = 0.0;
  for (var j = lid.x; j < len; j = j + ${WORKGROUP}u) {
    acc = combine(acc, partials[start + j]);
  }
  let r = root(reduce_workgroup(acc, lid.x), u.invP);
  if (lid.x == 0u) {
    if (k < u.count) { norms[u.normsOff + k] = r; } else { total[u.totalOff] = r; }
  }
}
`;

const KINDS: readonly NormKind[] = ['l2', 'l1', 'lp', 'inf'];
const SHADERS = Object.fromEntries(
  KINDS.map((k) => [k, { partial: partialShader(k), finish: finishShader(k) }]),
) as Record<NormKind, { partial: string; finish: string }>;

function assertF32(op: string, dtypes: readonly string[]): void {
  dtypes.forEach((d, i) => {
    if (d !== 'f32') throw new TypeError(`${op}: tensor ${i} has dtype ${d}; expected f32`);
  });
}

function hostTerm(kind: NormKind, p: number): (x: number) => number {
  if (kind === 'l2') return (x) => x * x;
  if (kind === 'lp') return (x) => Math.abs(x) ** p;
  return Math.abs;
}

function hostCombine(kind: NormKind): (a: number, b: number) => number {
  return kind === 'inf' ? Math.max : (a, b) => a + b;
}

function hostRoot(kind: NormKind, p: number): (s: number) => number {
  if (kind === 'l2') return Math.sqrt;
  if (kind === 'lp') return (s) => s ** (1 / p);
  return (s) => s;
}

/** Registers the WebGPU and reference kernels of {@link NORM_PARTIALS} and {@link NORM_FINISH}. */
export function registerNormKernels(): void {
  registerKernel<WebGpuBackend, NormPartialsAttrs>(
    NORM_PARTIALS,
    'webgpu',
    (b, [x], [partials], a) => {
      assertF32(NORM_PARTIALS, [x!.dtype, partials!.dtype]);
      assertBindable(b, x!, NORM_PARTIALS, 'the gradient');
      b.dispatch({
        pipeline: b.pipeline(SHADERS[a.kind].partial),
        buffers: [bufferOf(x!, NORM_PARTIALS), bufferOf(partials!, NORM_PARTIALS)],
        params: packUniforms(PARTIAL_FIELDS, {
          n: x!.shape.reduce((s, d) => s * d, 1),
          xOff: x!.offset,
          outOff: partials!.offset + a.slot * PARTS,
          p: a.p,
        }),
        grid: [PARTS],
      });
    },
  );

  registerKernel<WebGpuBackend, NormFinishAttrs>(
    NORM_FINISH,
    'webgpu',
    (b, [partials], [norms, total], a) => {
      assertF32(NORM_FINISH, [partials!.dtype, norms!.dtype, total!.dtype]);
      b.dispatch({
        pipeline: b.pipeline(SHADERS[a.kind].finish),
        buffers: [partials!, norms!, total!].map((t) => bufferOf(t, NORM_FINISH)),
        params: packUniforms(FINISH_FIELDS, {
          count: a.count,
          invP: 1 / a.p,
          normsOff: norms!.offset,
          totalOff: total!.offset,
        }),
        grid: foldGrid(b, a.count + 1),
      });
    },
  );

  registerKernel<Backend, NormPartialsAttrs>(NORM_PARTIALS, 'cpu', (b, [xv], [pv], a) => {
    assertF32(NORM_PARTIALS, [xv!.dtype, pv!.dtype]);
    const x = readView(xv!, NORM_PARTIALS);
    const out = dataOf(pv!, NORM_PARTIALS);
    const term = hostTerm(a.kind, a.p);
    const combine = hostCombine(a.kind);
    const store = floatStore(b);
    // Same partition as the shader: part w holds elements with (i / WORKGROUP) % PARTS == w.
    const acc = new Float64Array(PARTS);
    for (let i = 0; i < x.length; i++) {
      const w = Math.floor(i / WORKGROUP) % PARTS;
      acc[w] = combine(acc[w]!, term(x[i]!));
    }
    for (let w = 0; w < PARTS; w++) out[pv!.offset + a.slot * PARTS + w] = store(acc[w]!);
  });

  registerKernel<Backend, NormFinishAttrs>(NORM_FINISH, 'cpu', (b, [pv], [nv, tv], a) => {
    assertF32(NORM_FINISH, [pv!.dtype, nv!.dtype, tv!.dtype]);
    const partials = readView(pv!, NORM_FINISH);
    const norms = dataOf(nv!, NORM_FINISH);
    const total = dataOf(tv!, NORM_FINISH);
    const combine = hostCombine(a.kind);
    const root = hostRoot(a.kind, a.p);
    const store = floatStore(b);
    let all = 0;
    for (let k = 0; k < a.count; k++) {
      let s = 0;
      for (let w = 0; w < PARTS; w++) s = combine(s, partials[k * PARTS + w]!);
      norms[nv!.offset + k] = store(root(s));
      all = combine(all, s);
    }
    total[tv!.offset] = store(root(all));
  });
}
