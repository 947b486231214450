/**
 * Fused layer normalisation and RMS normalisation over the last dim, with fused
 * backward kernels.
 *
 * Kernel contracts (shared by every backend; x is read as [rows, D] by its last dim,
 * and the op makes x, dy, weight and bias contiguous before calling a kernel):
 * - `layer_norm`: inputs [x, weight?, bias?], attrs {@link NormAttrs}; outputs
 *   [y (x's shape), mean [rows] f32, rstd [rows] f32].
 * - `rms_norm`: inputs [x, weight?], attrs {@link NormAttrs}; outputs [y, rstd [rows] f32].
 * - `layer_norm_grad_input`: inputs [x, dy, mean, rstd, weight?]; outputs [dx].
 * - `rms_norm_grad_input`: inputs [x, dy, rstd, weight?]; outputs [dx].
 * - `layer_norm_grad_params`: inputs [x, dy, mean, rstd], attrs {@link NormParamGradAttrs};
 *   outputs [dweight?, dbias?] (column sums over rows of dy·x̂ and dy).
 * - `rms_norm_grad_params`: inputs [x, dy, rstd]; outputs [dweight].
 * Statistics are f32 on every backend (float64 on the float64 reference device).
 */
import { isFloat } from '../dtype.js';
import { commonDevice, execute, needsGrad, record, type OutputSpec } from '../execute.js';
import { fmt, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5, as `torch.nn.LayerNorm`). */
  eps?: number;
}

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** Added to the mean square before the square root (default 1e-6, as LLaMA's RMSNorm). */
  eps?: number;
}

/** Attributes of the `layer_norm` and `rms_norm` kernels. */
export interface NormAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

/** Attributes of the `*_grad_params` kernels: which column sums to produce. */
export interface NormParamGradAttrs {
  weight: boolean;
  bias: boolean;
}

/** Attributes of the `*_grad_input` kernels. */
export interface NormGradInputAttrs {
  hasWeight: boolean;
}

/** The norm flavours: 'layer' centres and scales, 'rms' only scales. */
export type NormKind = 'layer' | 'rms';

/** A contiguous tensor with `t`'s values: `t` itself when already contiguous (not recorded by autograd). */
function denseOf(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  return execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

/** Disposes `t` when it is a temporary made from `original`. */
function disposeIfCopy(t: Tensor | null, original: Tensor | null): void {
  if (t && t !== original) t.dispose();
}

function validate(
  op: string,
  x: unknown,
  params: [string, unknown][],
  eps: unknown,
): { D: number; rows: number } {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor; got ${typeof x}`);
  if (!isFloat(x.dtype))
    throw new TypeError(`${op}: x has dtype ${x.dtype}; expected a float dtype (f32, f16, bf16)`);
  if (x.rank < 1)
    throw new RangeError(`${op}: x has shape ${fmt(x.shape)}; expected at least one dim`);
  const D = x.shape[x.rank - 1]!;
  for (const [name, p] of params) {
    if (p === null || p === undefined) continue;
    if (!(p instanceof Tensor))
      throw new TypeError(`${op}: ${name} must be a Tensor or null; got ${typeof p}`);
    if (!isFloat(p.dtype))
      throw new TypeError(`${op}: ${name} has dtype ${p.dtype}; expected a float dtype`);
    if (p.rank !== 1 || p.shape[0] !== D)
      throw new RangeError(
        `${op}: ${name} has shape ${fmt(p.shape)}; expected [${D}] (x's last dim)`,
      );
  }
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new RangeError(`${op}: eps is ${String(eps)}; expected a finite number >= 0`);
  const present = [x, ...params.map(([, p]) => p)].filter((p): p is Tensor => p instanceof Tensor);
  const names = ['x', ...params.filter(([, p]) => p instanceof Tensor).map(([n]) => n)];
  commonDevice(op, present, names);
  return { D, rows: sizeOf(x.shape.slice(0, -1)) };
}

function normForward(
  op: string,
  kind: NormKind,
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  rows: number,
): Tensor {
  const device = x.device;
  const xs = denseOf(x);
  const ws = weight ? denseOf(weight) : null;
  const bs = bias ? denseOf(bias) : null;
  const stats: OutputSpec[] =
    kind === 'layer'
      ? [
          { shape: [rows], dtype: 'f32' },
          { shape: [rows], dtype: 'f32' },
        ]
      : [{ shape: [rows], dtype: 'f32' }];
  const attrs: NormAttrs = { eps, hasWeight: ws !== null, hasBias: bs !== null };
  const [y, ...saved] = execute(
    kind === 'layer' ? 'layer_norm' : 'rms_norm',
    device,
    [xs, ws, bs].filter((t): t is Tensor => t !== null),
    [{ shape: x.shape, dtype: x.dtype }, ...stats],
    attrs,
  );
  const inputs = kind === 'layer' ? [x, weight, bias] : [x, weight];
  if (needsGrad(...inputs)) {
    const needX = x.requiresGrad;
    const needW = weight?.requiresGrad ?? false;
    const needB = bias?.requiresGrad ?? false;
    const toSave = [xs, ...saved, ...(ws ? [ws] : [])];
    record(op, inputs, [y!], toSave, ([g], s) => {
      const sx = s[0]!;
      const st = s.slice(1, 1 + stats.length);
      const sw = ws ? s[1 + stats.length]! : null;
      const dy = denseOf(g!);
      let dx: Tensor | null = null;
      if (needX) {
        dx = execute(
          `${kind}_norm_grad_input`,
          device,
          [sx, dy, ...st, ...(sw ? [sw] : [])],
          [{ shape: sx.shape, dtype: sx.dtype }],
          { hasWeight: sw !== null } satisfies NormGradInputAttrs,
        )[0]!;
      }
      let dw: Tensor | null = null;
      let db: Tensor | null = null;
      if (needW || needB) {
        const specs: OutputSpec[] = [];
        if (needW) specs.push({ shape: weight!.shape, dtype: weight!.dtype });
        if (needB) specs.push({ shape: bias!.shape, dtype: bias!.dtype });
        const outs = execute(`${kind}_norm_grad_params`, device, [sx, dy, ...st], specs, {
          weight: needW,
          bias: needB,
        } satisfies NormParamGradAttrs);
        dw = needW ? outs[0]! : null;
        db = needB ? outs[needW ? 1 : 0]! : null;
      }
      disposeIfCopy(dy, g!);
      return kind === 'layer' ? [dx, dw, db] : [dx, dw];
    });
  }
  for (const t of saved) t.dispose();
  disposeIfCopy(xs, x);
  disposeIfCopy(ws, weight);
  disposeIfCopy(bs, bias);
  return y!;
}

/**
 * Layer normalisation over the last dim, fused in one kernel:
 * `(x − mean) / sqrt(var + eps) · weight + bias` with the biased variance, as
 * `torch.nn.functional.layer_norm(x, [D], weight, bias, eps)`.
 *
 * @param x - Any float dtype, shape [..., D]; statistics are computed in f32.
 * @param weight - Optional scale of shape [D] (null or omitted: no scale).
 * @param bias - Optional shift of shape [D] (null or omitted: no shift).
 * @param options - `eps` (default 1e-5).
 * @returns A tensor of x's shape and dtype.
 */
export function layerNorm(
  x: Tensor,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: LayerNormOptions = {},
): Tensor {
  const eps = options.eps ?? 1e-5;
  const { rows } = validate(
    'layerNorm',
    x,
    [
      ['weight', weight],
      ['bias', bias],
    ],
    eps,
  );
  return normForward('layerNorm', 'layer', x, weight ?? null, bias ?? null, eps, rows);
}

/**
 * RMS normalisation over the last dim, fused in one kernel (LLaMA's RMSNorm):
 * `x · rsqrt(mean(x²) + eps) · weight`.
 *
 * @param x - Any float dtype, shape [..., D]; statistics are computed in f32.
 * @param weight - Optional scale of shape [D] (null or omitted: no scale).
 * @param options - `eps` (default 1e-6).
 * @returns A tensor of x's shape and dtype.
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, options: RmsNormOptions = {}): Tensor {
  const eps = options.eps ?? 1e-6;
  const { rows } = validate('rmsNorm', x, [['weight', weight]], eps);
  return normForward('rmsNorm', 'rms', x, weight ?? null, null, eps, rows);
}
