/**
 * `precision_round_into`: writes f32 master weights into a model parameter of
 * another float dtype in place, rounding to nearest even or stochastically
 * (bf16 only). Stochastic rounding adds a uniform 16-bit integer to the low
 * half of the f32 pattern and truncates, so a value rounds away from zero with
 * probability equal to its distance from the lower bf16 neighbour in units of
 * the bf16 spacing: unbiased, E[round(x)] = x. The random words come from
 * tensor-core's Philox stream (`randomBits`), so results are deterministic
 * under a seed and identical on every backend. 16-bit targets are written a
 * word (two values) per invocation, so the target must start on a word.
 */
import {
  bf16BitsToF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  registerKernel,
  type Backend,
  type WebGpuBackend,
} from '@fathom/tensor-core';
import { registerWasmFallbacks } from '@fathom/tensor-core';
import {
  FLAT_INDEX,
  WGSL_HALF,
  WORKGROUP,
  bufferOf,
  dataOf,
  foldGrid,
  packUniforms,
  sizeOf,
  uniformStruct,
  type UniformField,
} from './gpu-util.js';

/** Op name: inputs `[master (f32)]` or `[master, bits (u32)]`, target `[param]`. */
export const ROUND_INTO = 'precision_round_into';

/** Attributes of {@link ROUND_INTO}. */
export interface RoundIntoAttrs {
  mode: 'nearest' | 'stochastic';
}

const FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['mOff', 'u32'],
  ['pOff', 'u32'],
  ['rOff', 'u32'],
];

const WGSL_SR = /* wgsl */ `
fn prec_sr_bf16(x: f32, r: u32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) { return fathom_f32_to_bf16(x); }
  return ((bits + (r & 0xffffu)) >> 16u) & 0xffffu;
}
`;

function shader(dtype: string, stochastic: boolean): string {
  const head = `${WGSL_HALF}\n${WGSL_SR}\n${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> m: array<f32>;`;
  if (dtype === 'f32') {
    return /* wgsl */ `${head}
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i < u.n) { p[u.pOff + i] = m[u.mOff + i]; }
}
`;
  }
  const conv = (v: string, r: string): string =>
    stochastic
      ? `prec_sr_bf16(${v}, ${r})`
      : dtype === 'f16'
        ? `fathom_f32_to_f16(${v})`
        : `fathom_f32_to_bf16(${v})`;
  return /* wgsl */ `${head}
@group(0) @binding(1) ${stochastic ? 'var<storage, read> bits: array<u32>;\n@group(0) @binding(2)' : ''} var<storage, read_write> p: array<u32>;
@group(0) @binding(${stochastic ? 3 : 2}) var<uniform> u: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = ${FLAT_INDEX};
  let i = w * 2u;
  if (i >= u.n) { return; }
  let word = u.pOff / 2u + w;
  let lo = ${conv('m[u.mOff + i]', stochastic ? 'bits[u.rOff + i]' : '0u')};
  var hi = p[word] >> 16u;
  if (i + 1u < u.n) { hi = ${conv('m[u.mOff + i + 1u]', stochastic ? 'bits[u.rOff + i + 1u]' : '0u')}; }
  p[word] = lo | (hi << 16u);
}
`;
}

/** Host twin of the WGSL stochastic rounding: bf16 bits of `x` with random word `r`. */
export function stochasticBf16Bits(x: number, r: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) return f32ToBf16Bits(x);
  return ((bits + (r & 0xffff)) >>> 16) & 0xffff;
}

let registered = false;

/** Registers {@link ROUND_INTO} for `webgpu` and `cpu` (idempotent). */
export function registerRoundKernels(): void {
  if (registered) return;
  registered = true;
  registerKernel<WebGpuBackend, RoundIntoAttrs>(ROUND_INTO, 'webgpu', (b, ins, [p], a) => {
    const [m, r] = ins;
    const n = sizeOf(p!.shape);
    if (n === 0) return;
    const stochastic = a.mode === 'stochastic';
    if (stochastic && p!.dtype !== 'bf16')
      throw new TypeError(
        `${ROUND_INTO}: stochastic rounding writes bf16; the target is ${p!.dtype}`,
      );
    const half = p!.dtype !== 'f32';
    if (half && p!.offset % 2 !== 0)
      throw new Error(
        `${ROUND_INTO}: the target starts at element ${p!.offset}, inside a 32-bit word; expected an even offset`,
      );
    b.dispatch({
      pipeline: b.pipeline(shader(p!.dtype, stochastic)),
      buffers: [m!, ...(stochastic ? [r!] : []), p!].map((v) => bufferOf(v, ROUND_INTO)),
      params: packUniforms(FIELDS, {
        n,
        mOff: m!.offset,
        pOff: p!.offset,
        rOff: r?.offset ?? 0,
      }),
      grid: foldGrid(b, Math.ceil((half ? Math.ceil(n / 2) : n) / WORKGROUP)),
    });
  });
  registerKernel<Backend, RoundIntoAttrs>(ROUND_INTO, 'cpu', (_b, ins, [pv], a) => {
    const [mv, rv] = ins;
    const m = dataOf(mv!, ROUND_INTO);
    const r = rv ? dataOf(rv, ROUND_INTO) : null;
    const p = dataOf(pv!, ROUND_INTO);
    for (let i = 0; i < sizeOf(pv!.shape); i++) {
      const x = Math.fround(m[mv!.offset + i]!);
      let v: number;
      if (pv!.dtype === 'f32') v = x;
      else if (a.mode === 'stochastic')
        v = bf16BitsToF32(stochasticBf16Bits(x, r![rv!.offset + i]!));
      else if (pv!.dtype === 'f16') v = f16BitsToF32(f32ToF16Bits(x));
      else v = bf16BitsToF32(f32ToBf16Bits(x));
      p[pv!.offset + i] = v;
    }
  });
  // The reference kernels run unchanged on the WebAssembly backend's storage.
  registerWasmFallbacks();
}
