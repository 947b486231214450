/**
 * WebGPU kernels of logsumexp, variance, argmax and argmin. They follow
 * reduce-codegen.ts (one workgroup per output element, invocations striding
 * over the reduced elements, then a tree in workgroup memory; shapes and
 * strides as uniforms) but carry a struct of state per invocation: an online
 * (max, rescaled sum) pair, Welford's (count, mean, M2) merged with Chan's
 * formula, or a (value, index) pair whose ties go to the lower index.
 */
import type { TensorView } from '../../backend.js';
import { isHalf } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { WORKGROUP, gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, loadedType, storageType, storeExpr } from './wgsl-dtype.js';

const WG = 64;

/**
 * A reduction with a struct state. Code sees `v` (the loaded value, of WGSL type `value`),
 * `r` (the element's row-major index among the reduced elements), `n` (their count as f32)
 * and `c` (the f32 scalar attribute).
 */
interface StateRule {
  /** WGSL type values are compared or accumulated in. */
  value: 'f32' | 'i32' | 'u32';
  /** Fields of `struct State`. */
  fields: string;
  /** Expression of the empty state. */
  init: string;
  /** Statements updating `acc` with one element. */
  step: string;
  /** Body of `fn merge(a: State, b: State) -> State`. */
  merge: string;
  /** Expression of the result from `acc`. */
  finalize: string;
  result: 'f32' | 'i32';
  /** WGSL functions the other fields call. */
  helpers?: string;
}

const PAIR: Omit<StateRule, 'finalize' | 'result'> = {
  value: 'f32',
  fields: 'm: f32, s: f32',
  init: 'State(-fathom_inf(), 0.0)',
  // −∞ adds nothing (and must not make exp(−∞ − −∞) = NaN); a NaN element poisons s.
  step: `if (v > acc.m) { acc.s = acc.s * exp(acc.m - v) + 1.0; acc.m = v; }
    else if (v != -fathom_inf()) { acc.s = acc.s + exp(v - acc.m); }`,
  merge: `let m = max(a.m, b.m);
  return State(m, a.s * select(exp(a.m - m), 1.0, a.m == m) + b.s * select(exp(b.m - m), 1.0, b.m == m));`,
};

const WELFORD: Omit<StateRule, 'finalize' | 'result'> = {
  value: 'f32',
  fields: 'n: f32, mean: f32, m2: f32',
  init: 'State(0.0, 0.0, 0.0)',
  step: `acc.n = acc.n + 1.0;
    let delta = v - acc.mean;
    acc.mean = acc.mean + delta / acc.n;
    acc.m2 = acc.m2 + delta * (v - acc.mean);`,
  merge: `let n = a.n + b.n;
  if (n == 0.0) { return a; }
  let delta = b.mean - a.mean;
  return State(n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * (b.n / n)));`,
};

/** (value, index) with index 0xffffffff meaning "no element yet". */
function argRule(value: 'f32' | 'i32' | 'u32', wins: '>' | '<'): StateRule {
  // NaN counts as the extreme (torch's rule); a bit test, since x != x may be folded away.
  const nan = (e: string): string => (value === 'f32' ? `fathom_is_nan(${e})` : 'false');
  return {
    value,
    fields: `v: ${value}, i: u32`,
    init: `State(${value}(0), 0xffffffffu)`,
    step: `if (better(State(v, r), acc)) { acc = State(v, r); }`,
    merge: `if (better(b, a)) { return b; }
  return a;`,
    finalize: 'i32(acc.i)',
    result: 'i32',
    helpers: `
fn better(a: State, b: State) -> bool {
  if (a.i == 0xffffffffu) { return false; }
  if (b.i == 0xffffffffu) { return true; }
  let an = ${nan('a.v')};
  let bn = ${nan('b.v')};
  if (an != bn) { return an; }
  if (an || a.v == b.v) { return a.i < b.i; }
  return a.v ${wins} b.v;
}`,
  };
}

function vec(i: number): string {
  return `[${i >> 2}][${i & 3}]`;
}

function shader(
  rule: StateRule,
  x: TensorView,
  out: TensorView,
  keptRank: number,
  redRank: number,
): string {
  const kv = Math.ceil(keptRank / 4);
  const rv = Math.ceil(redRank / 4);
  const keptCode: string[] = [];
  for (let d = keptRank - 1; d >= 0; d--) {
    keptCode.push(
      `{ let k = rem % p.kshape${vec(d)}; rem = rem / p.kshape${vec(d)}; base = base + k * p.kstride${vec(d)}; }`,
    );
  }
  const redCode: string[] = [];
  for (let d = redRank - 1; d >= 0; d--) {
    redCode.push(
      `{ let k = rr % p.rshape${vec(d)}; rr = rr / p.rshape${vec(d)}; off = off + k * p.rstride${vec(d)}; }`,
    );
  }
  return `${WGSL_DTYPE_HELPERS}
struct Params {
  outCount: u32, reduced: u32, offset: u32, scalarBits: u32,
  kshape: array<vec4<u32>, ${kv}>, kstride: array<vec4<u32>, ${kv}>,
  rshape: array<vec4<u32>, ${rv}>, rstride: array<vec4<u32>, ${rv}>,
}
struct State { ${rule.fields} }
@group(0) @binding(0) var<storage, read> x: array<${storageType(x.dtype)}>;
@group(0) @binding(1) var<storage, read_write> out: array<${storageType(out.dtype)}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> part: array<State, ${WG}>;
fn fathom_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
${rule.helpers ?? ''}
fn merge(a: State, b: State) -> State {
  ${rule.merge}
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = wid.x + wid.y * nw.x;
  if (o >= p.outCount) { return; }
  var rem = o;
  var base = p.offset;
  ${keptCode.join('\n  ')}
  let n = f32(p.reduced);
  let c = bitcast<f32>(p.scalarBits);
  var acc = ${rule.init};
  for (var r = lid.x; r < p.reduced; r = r + ${WG}u) {
    var rr = r;
    var off = base;
    ${redCode.join('\n    ')}
    let v = ${rule.value}(${loadExpr('x', x.dtype, 'off')});
    ${rule.step}
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { part[lid.x] = merge(part[lid.x], part[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let acc = part[0];
    let result = ${rule.finalize};
    out[o] = ${storeExpr(out.dtype, 'result', rule.result)};
  }
}
`;
}

/** Encodes a struct-state reduction of `x` over `axes` into `out`. */
function runStateReduce(
  backend: WebGpuBackend,
  x: TensorView,
  out: TensorView,
  axes: readonly number[],
  rule: StateRule,
  scalar = 0,
): void {
  if (isHalf(out.dtype))
    throw new Error('internal: reductions write f32; execute() casts to 16-bit');
  const outCount = sizeOf(out.shape);
  if (outCount === 0) return;
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptRank = Math.max(kept.length, 1);
  const redRank = Math.max(axes.length, 1);
  const kv = Math.ceil(keptRank / 4);
  const rv = Math.ceil(redRank / 4);
  const words = new Uint32Array(4 + 2 * kv * 4 + 2 * rv * 4);
  words[0] = outCount;
  words[1] = axes.reduce((n, a) => n * x.shape[a]!, 1);
  words[2] = x.offset;
  words[3] = new Uint32Array(new Float32Array([scalar]).buffer)[0]!;
  const at = { ks: 4, kt: 4 + kv * 4, rs: 4 + 2 * kv * 4, rt: 4 + 2 * kv * 4 + rv * 4 };
  if (kept.length === 0) words[at.ks] = 1;
  kept.forEach((a, i) => {
    words[at.ks + i] = x.shape[a]!;
    words[at.kt + i] = x.strides[a]!;
  });
  if (axes.length === 0) words[at.rs] = 1;
  axes.forEach((a, i) => {
    words[at.rs + i] = x.shape[a]!;
    words[at.rt + i] = x.strides[a]!;
  });
  backend.dispatch({
    pipeline: backend.pipeline(shader(rule, x, out, keptRank, redRank)),
    buffers: [(x.handle as GpuStorage).buffer, (out.handle as GpuStorage).buffer],
    params: words.buffer,
    // gridFor counts WORKGROUP-sized groups: one group per output element.
    grid: gridFor(backend, outCount * WORKGROUP),
  });
}

type Attrs = { axes: number[]; correction: number };

registerKernel<WebGpuBackend, Attrs>('logsumexp', 'webgpu', (b, [x], [y], { axes }) =>
  // +∞ anywhere gives +∞ (exp(∞ − ∞) would make it NaN); all −∞ gives −∞ + log 0 = −∞.
  runStateReduce(b, x!, y!, axes, {
    ...PAIR,
    finalize: 'select(acc.m + log(acc.s), acc.m, acc.m == fathom_inf())',
    result: 'f32',
  }),
);

registerKernel<WebGpuBackend, Attrs>('variance', 'webgpu', (b, [x], [y], { axes, correction }) =>
  // M2 / max(N − c, 0), with 0/0 = NaN and M2/0 = +∞ spelled out (WGSL leaves x/0 undefined).
  runStateReduce(
    b,
    x!,
    y!,
    axes,
    {
      ...WELFORD,
      finalize:
        'select(acc.m2 / max(n - c, 0.0), select(fathom_inf(), fathom_nan(), acc.m2 == 0.0 || fathom_is_nan(acc.m2)), n - c <= 0.0)',
      result: 'f32',
    },
    correction,
  ),
);

for (const [op, wins] of [
  ['argmax', '>'],
  ['argmin', '<'],
] as const) {
  registerKernel<WebGpuBackend, Attrs>(op, 'webgpu', (b, [x], [y], { axes }) =>
    runStateReduce(b, x!, y!, axes, argRule(loadedType(x!.dtype), wins)),
  );
}
