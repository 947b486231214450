/**
 * `sgd_step`: one fused SGD update of one parameter tensor, in place, with
 * PyTorch's `torch.optim.SGD` semantics: `d = grad + wd·param`; with momentum,
 * `buf = d` on the first step and `buf = momentum·buf + (1 - dampening)·d` after;
 * Nesterov uses `d + momentum·buf`, otherwise `buf`; `param += -lr·d`.
 * Inputs `[grad]`; targets `[param]`, plus the momentum buffer when momentum ≠ 0.
 * Scalars and flags are uniforms; the only specialisation is the buffer binding.
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

/** Op name of the fused SGD update. */
export const SGD_STEP = 'sgd_step';

/** Scalars of one SGD update. */
export interface SgdStepAttrs {
  /** Learning rate. */
  lr: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** 0 disables the momentum buffer (then there is one target). */
  momentum: number;
  /** Dampening of the gradient's contribution to the buffer. */
  dampening: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** Ascend instead of descend (the gradient's sign flips). */
  maximize: boolean;
  /** True on the parameter's first step: the buffer starts as a copy of the gradient. */
  firstStep: boolean;
}

const FIELDS: readonly UniformField[] = [
  ['n', 'u32'],
  ['gOff', 'u32'],
  ['pOff', 'u32'],
  ['bOff', 'u32'],
  ['lr', 'f32'],
  ['weightDecay', 'f32'],
  ['momentum', 'f32'],
  ['oneMinusDampening', 'f32'],
  ['gradSign', 'f32'],
  ['nesterov', 'u32'],
  ['firstStep', 'u32'],
];

function shader(withMomentum: boolean): string {
  const momentumCode = withMomentum
    ? `let b0 = buf[u.bOff + i];
  let b1 = select(b0 * u.momentum + u.oneMinusDampening * d, d, u.firstStep != 0u);
  buf[u.bOff + i] = b1;
  d = select(b1, d + u.momentum * b1, u.nesterov != 0u);`
    : '';
  return /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
${withMomentum ? '@group(0) @binding(2) var<storage, read_write> buf: array<f32>;' : ''}
@group(0) @binding(${withMomentum ? 3 : 2}) var<uniform> u: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let param = p[u.pOff + i];
  let grad = u.gradSign * g[u.gOff + i];
  // PyTorch skips the decay term when weight_decay is 0 (so inf params stay inf, not NaN).
  var d = select(grad, grad + u.weightDecay * param, u.weightDecay != 0.0);
  ${momentumCode}
  p[u.pOff + i] = param + (-u.lr) * d;
}
`;
}

const SHADERS = { plain: shader(false), momentum: shader(true) };

function check(targets: readonly { dtype: string }[], a: SgdStepAttrs, gradDtype: string): void {
  const want = a.momentum !== 0 ? 2 : 1;
  if (targets.length !== want)
    throw new RangeError(
      `${SGD_STEP}: got ${targets.length} targets; expected ${want} (param${want === 2 ? ', momentum_buffer' : ''})`,
    );
  [gradDtype, ...targets.map((t) => t.dtype)].forEach((d, i) => {
    if (d !== 'f32')
      throw new TypeError(
        `${SGD_STEP}: binding ${i} has dtype ${d}; expected f32 (params and state)`,
      );
  });
}

/** Registers the WebGPU and reference kernels of {@link SGD_STEP}. */
export function registerSgdKernels(): void {
  registerKernel<WebGpuBackend, SgdStepAttrs>(SGD_STEP, 'webgpu', (b, [g], targets, a) => {
    check(targets, a, g!.dtype);
    const [p, buf] = targets;
    const n = p!.shape.reduce((s, d) => s * d, 1);
    if (n === 0) return;
    for (const t of [g!, ...targets]) assertBindable(b, t, SGD_STEP, 'a tensor');
    b.dispatch({
      pipeline: b.pipeline(buf ? SHADERS.momentum : SHADERS.plain),
      buffers: [g!, ...targets].map((t) => bufferOf(t, SGD_STEP)),
      params: packUniforms(FIELDS, {
        n,
        gOff: g!.offset,
        pOff: p!.offset,
        bOff: buf?.offset ?? 0,
        lr: a.lr,
        weightDecay: a.weightDecay,
        momentum: a.momentum,
        oneMinusDampening: 1 - a.dampening,
        gradSign: a.maximize ? -1 : 1,
        nesterov: a.nesterov ? 1 : 0,
        firstStep: a.firstStep ? 1 : 0,
      }),
      grid: foldGrid(b, Math.ceil(n / WORKGROUP)),
    });
  });

  registerKernel<Backend, SgdStepAttrs>(SGD_STEP, 'cpu', (b, [gv], targets, a) => {
    check(targets, a, gv!.dtype);
    const [pv, bv] = targets;
    const store = floatStore(b);
    const g = readView(gv!, SGD_STEP);
    const p = dataOf(pv!, SGD_STEP);
    const buf = bv ? dataOf(bv, SGD_STEP) : null;
    for (let i = 0; i < g.length; i++) {
      const param = p[pv!.offset + i]!;
      const grad = a.maximize ? -g[i]! : g[i]!;
      let d = a.weightDecay !== 0 ? grad + a.weightDecay * param : grad;
      if (buf) {
        const b1 = store(
          a.firstStep ? d : buf[bv!.offset + i]! * a.momentum + (1 - a.dampening) * d,
        );
        buf[bv!.offset + i] = b1;
        d = a.nesterov ? d + a.momentum * b1 : b1;
      }
      p[pv!.offset + i] = store(param - a.lr * d);
    }
  });
}
