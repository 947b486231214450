/**
 * `adamw_step`: one fused AdamW update of one parameter tensor, in place.
 * Inputs `[grad]`; targets `[param, exp_avg, exp_avg_sq]`, plus `max_exp_avg_sq`
 * with amsgrad. Every scalar arrives as a uniform, so changing the learning
 * rate or the step never compiles a new shader; the only specialisation is
 * amsgrad (one more binding).
 *
 * The arithmetic follows PyTorch's single-tensor `torch.optim.AdamW` operation
 * by operation: `param *= 1 - lr·wd`; `exp_avg.lerp_(grad, 1 - β1)`;
 * `exp_avg_sq = exp_avg_sq·β2 + (1 - β2)·grad·grad`; `denom = sqrt(v̂)/sqrt(bc2) + eps`
 * (eps added after the bias correction); `param += -(lr/bc1)·(exp_avg/denom)`.
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import { dataOf, floatStore, readView } from './cpu-util.js';
import {
  FLAT_INDEX,
  WORKGROUP,
  assertBindable,
  bufferOf,
  foldGrid,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './webgpu-util.js';

/** Op name of the fused AdamW update. */
export const ADAMW_STEP = 'adamw_step';

/** Scalars of one AdamW update, computed in float64 on the host (as PyTorch does in Python). */
export interface AdamWStepAttrs {
  /** `1 - lr·weightDecay` (decoupled decay). */
  decay: number;
  /** `1 - β1`, the weight of `exp_avg.lerp_(grad, ·)`. */
  lerpWeight: number;
  /** `β2`. */
  beta2: number;
  /** `1 - β2`. */
  oneMinusBeta2: number;
  /** `lr / (1 - β1^step)`. */
  stepSize: number;
  /** `sqrt(1 - β2^step)`. */
  bc2Sqrt: number;
  /** Added to the denominator after bias correction. */
  eps: number;
  /** Ascend instead of descend (the gradient's sign flips). */
  maximize: boolean;
  /** Use the running maximum of `exp_avg_sq` (a fourth target). */
  amsgrad: boolean;
}

const FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['gOff', 'u32'],
  ['pOff', 'u32'],
  ['mOff', 'u32'],
  ['vOff', 'u32'],
  ['xOff', 'u32'],
  ['decay', 'f32'],
  ['lerpWeight', 'f32'],
  ['beta2', 'f32'],
  ['oneMinusBeta2', 'f32'],
  ['stepSize', 'f32'],
  ['bc2Sqrt', 'f32'],
  ['eps', 'f32'],
  ['gradSign', 'f32'],
];

function shader(amsgrad: boolean): string {
  const last = amsgrad ? 5 : 4;
  return /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${amsgrad ? '@group(0) @binding(4) var<storage, read_write> vmax: array<f32>;' : ''}
@group(0) @binding(${last}) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let grad = u.gradSign * g[u.gOff + i];
  let param = p[u.pOff + i] * u.decay;
  let m0 = m[u.mOff + i];
  // torch.lerp's two-sided form: exact at weight 1, symmetric rounding otherwise.
  let w = u.lerpWeight;
  let m1 = select(grad - (grad - m0) * (1.0 - w), m0 + w * (grad - m0), w < 0.5);
  let v1 = v[u.vOff + i] * u.beta2 + (u.oneMinusBeta2 * grad) * grad;
  m[u.mOff + i] = m1;
  v[u.vOff + i] = v1;
  ${
    amsgrad
      ? `let vhat = max(vmax[u.xOff + i], v1);
  vmax[u.xOff + i] = vhat;`
      : 'let vhat = v1;'
  }
  let denom = sqrt(vhat) / u.bc2Sqrt + u.eps;
  p[u.pOff + i] = param + (-u.stepSize) * (m1 / denom);
}
`;
}

const SHADERS = { plain: shader(false), amsgrad: shader(true) };

function assertTargets(amsgrad: boolean, count: number): void {
  const want = amsgrad ? 4 : 3;
  if (count !== want)
    throw new RangeError(
      `${ADAMW_STEP}: got ${count} targets; expected ${want} (param, exp_avg, exp_avg_sq${amsgrad ? ', max_exp_avg_sq' : ''})`,
    );
}

function assertF32(op: string, dtypes: readonly string[]): void {
  dtypes.forEach((d, i) => {
    if (d !== 'f32')
      throw new TypeError(`${op}: binding ${i} has dtype ${d}; expected f32 (params and state)`);
  });
}

/** Registers the WebGPU and reference kernels of {@link ADAMW_STEP}. */
export function registerAdamWKernels(): void {
  registerKernel<WebGpuBackend, AdamWStepAttrs>(ADAMW_STEP, 'webgpu', (b, [g], targets, a) => {
    assertTargets(a.amsgrad, targets.length);
    const [p, m, v, x] = targets;
    assertF32(
      ADAMW_STEP,
      [g!, ...targets].map((t) => t.dtype),
    );
    const n = p!.shape.reduce((s, d) => s * d, 1);
    if (n === 0) return;
    for (const t of [g!, ...targets]) assertBindable(b, t, ADAMW_STEP, 'a tensor');
    const views = a.amsgrad ? [g!, p!, m!, v!, x!] : [g!, p!, m!, v!];
    b.dispatch({
      pipeline: b.pipeline(a.amsgrad ? SHADERS.amsgrad : SHADERS.plain),
      buffers: views.map((t) => bufferOf(t, ADAMW_STEP)),
      params: packUniforms(FIELDS, {
        n,
        gOff: g!.offset,
        pOff: p!.offset,
        mOff: m!.offset,
        vOff: v!.offset,
        xOff: x?.offset ?? 0,
        decay: a.decay,
        lerpWeight: a.lerpWeight,
        beta2: a.beta2,
        oneMinusBeta2: a.oneMinusBeta2,
        stepSize: a.stepSize,
        bc2Sqrt: a.bc2Sqrt,
        eps: a.eps,
        gradSign: a.maximize ? -1 : 1,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });

  registerKernel<Backend, AdamWStepAttrs>(ADAMW_STEP, 'cpu', (b, [gv], targets, a) => {
    assertTargets(a.amsgrad, targets.length);
    assertF32(
      ADAMW_STEP,
      [gv!, ...targets].map((t) => t.dtype),
    );
    const [pv, mv, vv, xv] = targets;
    const store = floatStore(b);
    const g = readView(gv!, ADAMW_STEP);
    const p = dataOf(pv!, ADAMW_STEP);
    const m = dataOf(mv!, ADAMW_STEP);
    const v = dataOf(vv!, ADAMW_STEP);
    const x = xv ? dataOf(xv, ADAMW_STEP) : null;
    const w = a.lerpWeight;
    for (let i = 0; i < g.length; i++) {
      const grad = a.maximize ? -g[i]! : g[i]!;
      const param = p[pv!.offset + i]! * a.decay;
      const m0 = m[mv!.offset + i]!;
      const m1 = store(w < 0.5 ? m0 + w * (grad - m0) : grad - (grad - m0) * (1 - w));
      const v1 = store(v[vv!.offset + i]! * a.beta2 + a.oneMinusBeta2 * grad * grad);
      m[mv!.offset + i] = m1;
      v[vv!.offset + i] = v1;
      let vhat = v1;
      if (x) {
        vhat = Math.max(x[xv!.offset + i]!, v1);
        x[xv!.offset + i] = vhat;
      }
      const denom = Math.sqrt(vhat) / a.bc2Sqrt + a.eps;
      p[pv!.offset + i] = store(param - a.stepSize * (m1 / denom));
    }
  });
}
