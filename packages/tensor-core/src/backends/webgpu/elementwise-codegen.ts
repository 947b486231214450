/**
 * Generates one WGSL compute shader for an elementwise op over up to three
 * strided, broadcast inputs (and one scalar uniform) of any dtype writing a contiguous output. Shapes
 * and strides arrive as uniforms, so one pipeline serves every shape of a rank.
 */
import type { TensorView } from '../../backend.js';
import type { DType } from '../../dtype.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { WGSL_BINARY_HELPERS, WGSL_HELPERS } from '../../ops/elementwise-table.js';
import { foldGrid } from './kernel-helpers.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, loadedType, storageType, storeExpr } from './wgsl-dtype.js';

export const WORKGROUP = 64;

/** What the generated shader computes. */
export interface ElementwiseSpec {
  /** dtype of each input binding. */
  inputs: DType[];
  /** The WGSL type each input is converted to before `expr` sees it as v0, v1, … */
  computeTypes: ('f32' | 'i32' | 'u32')[];
  /** WGSL expression over v0..vN. */
  expr: string;
  /** WGSL type of `expr` (`bool` for predicates). */
  resultType: 'f32' | 'i32' | 'u32' | 'bool';
  out: DType;
  rank: number;
}

function vecIndex(i: number): string {
  return `[${i >> 2}][${i & 3}]`;
}

/** The shader source for a spec. */
export function elementwiseShader(spec: ElementwiseSpec): string {
  const { rank } = spec;
  const vecs = Math.max(1, Math.ceil(rank / 4));
  const nIn = spec.inputs.length;
  const half = spec.out === 'f16' || spec.out === 'bf16';
  const bindings = spec.inputs
    .map((d, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<${storageType(d)}>;`)
    .join('\n');
  const strideFields = spec.inputs
    .map((_, k) => `  strides${k}: array<vec4<u32>, ${vecs}>,`)
    .join('\n');
  // Offsets of each input for output element `e`, computed from its multi-index.
  const offsetCode = (e: string): string => {
    const lines = [`var rem = ${e};`, ...spec.inputs.map((_, k) => `var o${k} = p.offsets[${k}];`)];
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`{ let dim = p.shape${vecIndex(d)}; let c = rem % dim; rem = rem / dim;`);
      for (let k = 0; k < nIn; k++)
        lines.push(`  o${k} = o${k} + c * p.strides${k}${vecIndex(d)};`);
      lines.push('}');
    }
    return lines.join('\n    ');
  };
  const valueCode = (e: string): string => {
    const loads = spec.inputs.map((d, k) => {
      const raw = loadExpr(`in${k}`, d, `o${k}`);
      const target = spec.computeTypes[k]!;
      return `let v${k} = ${loadedType(d) === target ? raw : `${target}(${raw})`};`;
    });
    return `${offsetCode(e)}\n    ${loads.join('\n    ')}\n    let r = ${spec.expr};`;
  };
  const body = half
    ? `let j = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  let e0 = j * 2u;
  if (e0 >= p.n) { return; }
  var packed = 0u;
  {
    ${valueCode('e0')}
    packed = ${storeExpr(spec.out, 'r', spec.resultType)};
  }
  if (e0 + 1u < p.n) {
    ${valueCode('e0 + 1u')}
    packed = packed | (${storeExpr(spec.out, 'r', spec.resultType)} << 16u);
  }
  out[j] = packed;`
    : `let e = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (e >= p.n) { return; }
  {
    ${valueCode('e')}
    out[e] = ${storeExpr(spec.out, 'r', spec.resultType)};
  }`;
  return `${WGSL_DTYPE_HELPERS}
${WGSL_HELPERS}
${WGSL_BINARY_HELPERS}
struct Params {
  n: u32,
  shape: array<vec4<u32>, ${vecs}>,
  offsets: vec4<u32>,
${strideFields}
}
${bindings}
@group(0) @binding(${nIn}) var<storage, read_write> out: array<${storageType(spec.out)}>;
@group(0) @binding(${nIn + 1}) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  ${body}
}
`;
}

/** Workgroup grid covering `invocations` threads (64 per workgroup), folded into 2D past the per-dimension limit. */
export function gridFor(backend: WebGpuBackend, invocations: number): [number, number] {
  return foldGrid(backend, Math.ceil(invocations / WORKGROUP));
}

/** Encodes an elementwise op: inputs broadcast to the output's shape. */
export function runElementwise(
  backend: WebGpuBackend,
  inputs: readonly TensorView[],
  out: TensorView,
  expr: string,
  computeTypes: ('f32' | 'i32' | 'u32')[],
  resultType: ElementwiseSpec['resultType'],
  /** A 32-bit scalar the expression reads as `p.offsets.w` (bits; bitcast as needed). */
  scalarBits = 0,
): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  if (inputs.length > 3) throw new Error('internal: elementwise kernels take at most 3 inputs');
  // Rank 0 runs as rank 1; the shader is specialised on rank only.
  const shape = out.shape.length === 0 ? [1] : out.shape;
  const rank = shape.length;
  const vecs = Math.max(1, Math.ceil(rank / 4));
  const code = elementwiseShader({
    inputs: inputs.map((v) => v.dtype),
    computeTypes,
    expr,
    resultType,
    out: out.dtype,
    rank,
  });
  // Uniform layout: n (padded to 16 bytes), shape, offsets (vec4), then each input's strides.
  const words = new Uint32Array(4 + vecs * 4 + 4 + inputs.length * vecs * 4);
  words[0] = n;
  shape.forEach((d, i) => (words[4 + i] = d));
  const offsetsAt = 4 + vecs * 4;
  words[offsetsAt + 3] = scalarBits;
  inputs.forEach((v, k) => {
    words[offsetsAt + k] = v.offset;
    const strides = v.shape.length === 0 ? [0] : broadcastStrides(v.shape, v.strides, shape);
    strides.forEach((s, i) => (words[offsetsAt + 4 + k * vecs * 4 + i] = s));
  });
  const half = out.dtype === 'f16' || out.dtype === 'bf16';
  backend.dispatch({
    pipeline: backend.pipeline(code),
    buffers: [
      ...inputs.map((v) => (v.handle as GpuStorage).buffer),
      (out.handle as GpuStorage).buffer,
    ],
    params: words.buffer,
    grid: gridFor(backend, half ? Math.ceil(n / 2) : n),
  });
}
