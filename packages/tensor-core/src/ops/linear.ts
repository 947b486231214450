/**
 * A fully connected layer as one op: `activation(x·wᵀ + bias)` with w stored
 * [out, in] as in PyTorch. On WebGPU the bias and activation run in the matmul's
 * epilogue (one dispatch, no intermediate pass over memory) where the direct
 * kernel applies; backward is the activation's derivative then two products.
 *
 * Kernel contract (every backend): `linear`: inputs [x [R, K] contiguous,
 * w [N, K] contiguous, bias? [N] contiguous], attrs {@link LinearAttrs}; outputs
 * [y [R, N], pre? [R, N]] where `pre` (the pre-activation, written when
 * `savePre`) is what backward differentiates the activation at.
 */
import { isFloat, promoteTypes } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { contiguousStrides, fmt, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';

/** Activations {@link linear} can fuse (names of the elementwise ops they match). */
export type LinearActivation = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'sigmoid' | 'tanh';

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Applied after the bias; `gelu` is the erf form, `gelu_tanh` GPT-2's approximation. */
  activation?: LinearActivation;
}

/** Attributes of the `linear` kernel. */
export interface LinearAttrs {
  /** Unary op name of the activation (elementwise table), or null. */
  activation: string | null;
  hasBias: boolean;
  savePre: boolean;
}

const ACTIVATION_OPS: Record<LinearActivation, string> = {
  relu: 'relu',
  gelu: 'gelu_erf',
  gelu_tanh: 'gelu_tanh',
  silu: 'silu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};

/** A contiguous tensor's storage seen with another shape, outside autograd (the op records its own node). */
function asShape(t: Tensor, shape: readonly number[]): Tensor {
  return t.view([...shape], contiguousStrides(shape), t.offset);
}

function dense(t: Tensor): Tensor {
  return t.isContiguous
    ? t
    : execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

/**
 * `activation(x · wᵀ + bias)`, fused (see the module comment).
 *
 * @param x - Input [..., in], any float dtype.
 * @param w - Weight [out, in].
 * @param bias - Optional bias [out] (null or omitted: none).
 * @param options - `activation` (default none).
 * @returns [..., out] in the promoted dtype of x and w.
 */
export function linear(
  x: Tensor,
  w: Tensor,
  bias?: Tensor | null,
  options: LinearOptions = {},
): Tensor {
  const named: [Tensor | null | undefined, string][] = [
    [x, 'x'],
    [w, 'w'],
    [bias, 'bias'],
  ];
  for (const [t, name] of named) {
    if (t === null || t === undefined) {
      if (name === 'bias') continue;
      throw new TypeError(`linear: ${name} must be a Tensor; got ${String(t)}`);
    }
    if (!(t instanceof Tensor))
      throw new TypeError(`linear: ${name} must be a Tensor; got ${typeof t}`);
    if (!isFloat(t.dtype))
      throw new TypeError(`linear: ${name} has dtype ${t.dtype}; expected f32, f16 or bf16`);
  }
  const b = bias ?? null;
  const device = commonDevice(
    'linear',
    b ? [x, w, b] : [x, w],
    b ? ['x', 'w', 'bias'] : ['x', 'w'],
  );
  if (x.rank < 1) throw new RangeError(`linear: x is a scalar; expected shape [..., in]`);
  if (w.rank !== 2) throw new RangeError(`linear: w has shape ${fmt(w.shape)}; expected [out, in]`);
  const [N, K] = w.shape as [number, number];
  if (x.shape[x.rank - 1] !== K)
    throw new RangeError(
      `linear: x has shape ${fmt(x.shape)}; expected its last dim to be ${K} (w's in dim)`,
    );
  if (b && (b.rank !== 1 || b.shape[0] !== N))
    throw new RangeError(`linear: bias has shape ${fmt(b.shape)}; expected [${N}] (w's out dim)`);
  const actName = options.activation;
  if (actName !== undefined && !(actName in ACTIVATION_OPS))
    throw new RangeError(
      `linear: activation '${String(actName)}' is unknown; expected one of ${Object.keys(ACTIVATION_OPS).join(', ')}`,
    );
  const activation = actName ? ACTIVATION_OPS[actName] : null;
  const rows = sizeOf(x.shape.slice(0, -1));
  const dtype = promoteTypes(x.dtype, w.dtype);
  const grad = needsGrad(x, w, b);
  const savePre = grad && activation !== null;
  const xd = dense(x);
  const x2 = asShape(xd, [rows, K]);
  const wd = dense(w);
  const bd = b ? dense(b) : null;
  const outs = execute(
    'linear',
    device,
    bd ? [x2, wd, bd] : [x2, wd],
    savePre
      ? [
          { shape: [rows, N], dtype },
          { shape: [rows, N], dtype: 'f32' },
        ]
      : [{ shape: [rows, N], dtype }],
    { activation, hasBias: bd !== null, savePre } satisfies LinearAttrs,
  );
  const y2 = outs[0]!;
  const pre = savePre ? outs[1]! : null;
  const y = asShape(y2, [...x.shape.slice(0, -1), N]);
  if (grad) {
    const [needX, needW, needB] = [x.requiresGrad, w.requiresGrad, b?.requiresGrad ?? false];
    const saved = [x2, wd, ...(pre ? [pre, y2] : [])];
    record('linear', [x, w, b], [y], saved, ([g], s) => {
      const [sx, sw] = [s[0]!, s[1]!];
      const gd = dense(g!);
      const g2 = asShape(gd, [rows, N]);
      if (gd !== g) gd.dispose();
      let dz = g2;
      if (activation) {
        dz = execute(
          `${activation}_grad`,
          device,
          [s[2]!, s[3]!, g2],
          [{ shape: [rows, N], dtype: 'f32' }],
          {},
        )[0]!;
        g2.dispose();
      }
      let dx: Tensor | null = null;
      if (needX) {
        const full = matmul(dz, sw);
        dx = asShape(full, x.shape);
        full.dispose();
      }
      const dw = needW ? matmul(dz, sx, { transA: true }) : null;
      const db = needB ? sum(dz, { axis: 0 }) : null;
      dz.dispose();
      return [dx, dw, db];
    });
  }
  y2.dispose();
  pre?.dispose();
  x2.dispose();
  if (xd !== x) xd.dispose();
  if (wd !== w) wd.dispose();
  if (bd && bd !== b) bd.dispose();
  return y;
}
