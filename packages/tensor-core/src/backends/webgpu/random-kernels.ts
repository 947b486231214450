/**
 * WebGPU kernels of the random ops. Each invocation computes one Philox block
 * (four u32 words) and writes the four elements that block feeds, so element i
 * gets word i % 4 of block floor(i / 4) whatever the grid looks like: the same
 * numbers as the reference kernels. Random data is generated on the GPU, never
 * uploaded. Ops with a tensor input (bernoulli with probabilities, dropout) read
 * it through its strides, broadcast to the output's shape; their shaders are
 * specialised on rank and dtype only.
 */
import type { TensorView } from '../../backend.js';
import { type DType, isHalf } from '../../dtype.js';
import type {
  BernoulliKernelAttrs,
  DropoutKernelAttrs,
  NormalKernelAttrs,
  RandintKernelAttrs,
  RandomKernelAttrs,
  UniformKernelAttrs,
} from '../../random/philox.js';
import { registerKernel } from '../../registry.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { gridFor, WORKGROUP } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, loadedType, storageType, storeExpr } from './wgsl-dtype.js';
import { WGSL_PHILOX } from './wgsl-philox.js';

/** Header words of the uniform block, before the input's shape and strides. */
const HEADER_WORDS = 16;

interface RandomShaderSpec {
  /** WGSL expression of one element from `w` (its word), `z` (the block's normals), `v` (the input value). */
  expr: string;
  resultType: 'f32' | 'i32' | 'u32' | 'bool';
  out: DType;
  /** The input's dtype and the output rank it is indexed by; absent for ops without input. */
  input?: { dtype: DType; rank: number };
  normals?: boolean;
}

function at(i: number): string {
  return `[${i >> 2}][${i & 3}]`;
}

function randomShader(spec: RandomShaderSpec): string {
  const { input } = spec;
  const vecs = input ? Math.max(1, Math.ceil(input.rank / 4)) : 0;
  const bindings: string[] = [];
  if (input)
    bindings.push(
      `@group(0) @binding(0) var<storage, read> inp: array<${storageType(input.dtype)}>;`,
    );
  const outBinding = input ? 1 : 0;
  bindings.push(
    `@group(0) @binding(${outBinding}) var<storage, read_write> out: array<${storageType(spec.out)}>;`,
    `@group(0) @binding(${outBinding + 1}) var<uniform> p: Params;`,
  );
  const load: string[] = [];
  if (input) {
    load.push('var rem = e;', 'var o = p.in_offset;');
    for (let d = input.rank - 1; d >= 0; d--) {
      load.push(
        `{ let dim = p.shape${at(d)}; let c = rem % dim; rem = rem / dim; o = o + c * p.strides${at(d)}; }`,
      );
    }
    const raw = loadExpr('inp', input.dtype, 'o');
    load.push(`let v = ${loadedType(input.dtype) === 'f32' ? raw : `f32(${raw})`};`);
  }
  return `${WGSL_DTYPE_HELPERS}
${WGSL_PHILOX}
struct Params {
  n: u32, k0: u32, k1: u32, in_offset: u32,
  counter: vec4<u32>,
  fa: f32, fb: f32, ua: u32, ub: u32,
  uc: u32, pad0: u32, pad1: u32, pad2: u32,
${input ? `  shape: array<vec4<u32>, ${vecs}>,\n  strides: array<vec4<u32>, ${vecs}>,` : ''}
}
${bindings.join('\n')}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  let first = t * 4u;
  if (first >= p.n) { return; }
  let r = philox_block(p.counter, vec2<u32>(p.k0, p.k1), t);
  ${spec.normals ? 'let z = philox_normals(r);' : ''}
  for (var j = 0u; j < 4u; j = j + 1u) {
    let e = first + j;
    if (e >= p.n) { break; }
    let w = r[j];
    ${load.join('\n    ')}
    out[e] = ${storeExpr(spec.out, `(${spec.expr})`, spec.resultType)};
  }
}
`;
}

/** Encodes one random kernel; `fill` sets the mode-specific header words (fa, fb, ua, ub, uc). */
function runRandom(
  b: WebGpuBackend,
  spec: Omit<RandomShaderSpec, 'out' | 'input'>,
  attrs: RandomKernelAttrs,
  out: TensorView,
  input: TensorView | null,
  fill: (f32: Float32Array, u32: Uint32Array) => void,
): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  if (isHalf(out.dtype))
    throw new Error(`internal: random kernels write 32-bit outputs; got ${out.dtype}`);
  // Rank 0 runs as rank 1, as in the elementwise kernels.
  const shape = out.shape.length === 0 ? [1] : out.shape;
  const rank = shape.length;
  const vecs = Math.max(1, Math.ceil(rank / 4));
  const code = randomShader({
    ...spec,
    out: out.dtype,
    ...(input ? { input: { dtype: input.dtype, rank } } : {}),
  });
  const buffer = new ArrayBuffer(4 * (HEADER_WORDS + (input ? 2 * vecs * 4 : 0)));
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32[0] = n;
  u32[1] = attrs.start.key[0];
  u32[2] = attrs.start.key[1];
  attrs.start.counter.forEach((c, i) => (u32[4 + i] = c));
  fill(f32, u32);
  if (input) {
    u32[3] = input.offset;
    const strides =
      input.shape.length === 0 ? [0] : broadcastStrides(input.shape, input.strides, shape);
    shape.forEach((d, i) => (u32[HEADER_WORDS + i] = d));
    strides.forEach((s, i) => (u32[HEADER_WORDS + vecs * 4 + i] = s));
  }
  b.dispatch({
    pipeline: b.pipeline(code),
    buffers: [
      ...(input ? [(input.handle as GpuStorage).buffer] : []),
      (out.handle as GpuStorage).buffer,
    ],
    params: buffer,
    grid: gridFor(b, Math.ceil(n / 4)),
  });
}

// Header word indices of the mode-specific fields.
const FA = 8;
const FB = 9;
const UA = 10;
const UB = 11;
const UC = 12;

registerKernel<WebGpuBackend, RandomKernelAttrs>('random_bits', 'webgpu', (b, _in, [out], a) =>
  runRandom(b, { expr: 'w', resultType: 'u32' }, a, out!, null, () => {}),
);

registerKernel<WebGpuBackend, UniformKernelAttrs>('random_uniform', 'webgpu', (b, _in, [out], a) =>
  runRandom(
    b,
    { expr: 'p.fa + p.fb * philox_uniform(w)', resultType: 'f32' },
    a,
    out!,
    null,
    (f) => {
      f[FA] = a.low;
      f[FB] = a.span;
    },
  ),
);

registerKernel<WebGpuBackend, NormalKernelAttrs>('random_normal', 'webgpu', (b, _in, [out], a) =>
  runRandom(
    b,
    { expr: 'p.fa + p.fb * z[j]', resultType: 'f32', normals: true },
    a,
    out!,
    null,
    (f) => {
      f[FA] = a.mean;
      f[FB] = a.std;
    },
  ),
);

registerKernel<WebGpuBackend, BernoulliKernelAttrs>('bernoulli', 'webgpu', (b, [prob], [out], a) =>
  prob
    ? runRandom(b, { expr: 'philox_uniform(w) < v', resultType: 'bool' }, a, out!, prob, () => {})
    : runRandom(b, { expr: '(w >> 8u) < p.ua', resultType: 'bool' }, a, out!, null, (_f, u) => {
        u[UA] = a.threshold;
      }),
);

registerKernel<WebGpuBackend, RandintKernelAttrs>('randint', 'webgpu', (b, _in, [out], a) =>
  runRandom(
    b,
    {
      // low + floor(w · range / 2^32): the high word of the 64-bit product, range ≤ 2^32.
      expr: 'bitcast<i32>(p.ua + philox_mulhi(w, p.ub) + select(0u, w, p.uc != 0u))',
      resultType: 'i32',
    },
    a,
    out!,
    null,
    (_f, u) => {
      u[UA] = a.low >>> 0;
      u[UB] = a.range % 2 ** 32;
      u[UC] = a.range >= 2 ** 32 ? 1 : 0;
    },
  ),
);

registerKernel<WebGpuBackend, DropoutKernelAttrs>('dropout', 'webgpu', (b, [x], [out], a) =>
  runRandom(
    b,
    { expr: 'select(0.0, v * p.fa, (w >> 8u) >= p.ua)', resultType: 'f32' },
    a,
    out!,
    x!,
    (f, u) => {
      f[FA] = a.scale;
      u[UA] = a.threshold;
    },
  ),
);
