/** Elementwise ops with NumPy broadcasting, generated from the table, with their backward rules. */
import { type DType, assertDType, isFloat, promoteTypes } from '../dtype.js';
import { commonDevice, execute, needsGrad, record } from '../execute.js';
import { broadcastShapes, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { BINARY, UNARY } from './elementwise-table.js';
import { sumToShape } from './reduce.js';

/** A tensor or a plain number (a scalar of the other operand's kind). */
export type TensorLike = Tensor | number;

function scalarFor(value: number, other: Tensor): Tensor {
  const dtype: DType =
    isFloat(other.dtype) || !Number.isInteger(value)
      ? isFloat(other.dtype)
        ? other.dtype
        : 'f32'
      : other.dtype === 'bool'
        ? 'i32'
        : other.dtype;
  return full([], value, { device: other.device, dtype });
}

/** Turns numbers into scalars matching the tensor operand; the flags say which ones were created here. */
function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, boolean, boolean] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b, false, false];
  if (a instanceof Tensor) return [a, scalarFor(b as number, a), false, true];
  if (b instanceof Tensor) return [scalarFor(a as number, b), b, true, false];
  throw new TypeError(
    `${op}: at least one operand must be a Tensor; got ${typeof a} and ${typeof b}`,
  );
}

function unary(name: string, x: Tensor): Tensor {
  const device = commonDevice(name, [x], ['x']);
  const def = UNARY[name]!;
  const keepInt = def.intWgsl !== undefined && !isFloat(x.dtype) && x.dtype !== 'bool';
  const dtype = isFloat(x.dtype) || keepInt ? x.dtype : 'f32';
  const src = x.dtype === 'bool' ? cast(x, 'f32') : x;
  const [y] = execute(name, device, [src], [{ shape: x.shape, dtype }], {});
  if (src !== x) src.dispose();
  if (def.dwgsl && needsGrad(x)) {
    record(name, [x], [y!], [x, y!], ([g], [sx, sy]) => [
      execute(
        `${name}_grad`,
        device,
        [sx!, sy!, g!],
        [{ shape: sx!.shape, dtype: sx!.dtype }],
        {},
      )[0]!,
    ]);
  }
  return y!;
}

function binaryForward(name: string, a: Tensor, b: Tensor): Tensor {
  const device = commonDevice(name, [a, b], ['a', 'b']);
  const def = BINARY[name]!;
  const shape = broadcastShapes(name, a.shape, b.shape);
  let dtype = promoteTypes(a.dtype, b.dtype);
  if (def.floatOnly && !isFloat(dtype)) dtype = 'f32';
  if (def.predicate) dtype = 'bool';
  const ins = def.floatOnly ? [a, b].map((t) => (isFloat(t.dtype) ? t : cast(t, 'f32'))) : [a, b];
  const [out] = execute(name, device, ins, [{ shape, dtype }], {});
  ins.forEach((t, i) => t !== [a, b][i] && t.dispose());
  return out!;
}

/** Runs a binary op, disposing scalar operands made from numbers. */
function binary(
  name: string,
  x: TensorLike,
  y: TensorLike,
  /** Gradients for a and b; `need` says which operands require one (skip the other's work). */
  grad?: (
    g: Tensor,
    a: Tensor,
    b: Tensor,
    out: Tensor,
    need: readonly [boolean, boolean],
  ) => [Tensor | null, Tensor | null],
): Tensor {
  const [a, b, madeA, madeB] = operands(name, x, y);
  try {
    const out = binaryForward(name, a, b);
    if (grad && needsGrad(a, b)) {
      const need = [a.requiresGrad, b.requiresGrad] as const;
      record(name, [a, b], [out], [a, b, out], ([g], [sa, sb, so]) => {
        const [ga, gb] = grad(g!, sa!, sb!, so!, need);
        return [fit(ga, sa!), fit(gb, sb!)];
      });
    }
    return out;
  } finally {
    if (madeA) a.dispose();
    if (madeB) b.dispose();
  }
}

/** Sums a broadcast gradient back to an operand's shape. */
function fit(g: Tensor | null, like: Tensor): Tensor | null {
  if (!g || sameShape(g.shape, like.shape)) return g;
  const r = sumToShape(g, like.shape);
  g.dispose();
  return r;
}

/** Elementwise `a + b`. */
export const add = (a: TensorLike, b: TensorLike): Tensor =>
  binary('add', a, b, (g, _x, _y, _o, [na, nb]) => [na ? g.share() : null, nb ? g.share() : null]);
/** Elementwise `a - b`. */
export const sub = (a: TensorLike, b: TensorLike): Tensor =>
  binary('sub', a, b, (g, _x, _y, _o, [na, nb]) => [na ? g.share() : null, nb ? neg(g) : null]);
/** Elementwise `a * b`. */
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binary('mul', a, b, (g, x, y, _o, [na, nb]) => [na ? mul(g, y) : null, nb ? mul(g, x) : null]);
/** Elementwise true division `a / b` (integers are divided as floats). */
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binary('div', a, b, (g, _x, y, out, [na, nb]) => {
    const ga = div(g, y);
    let gb: Tensor | null = null;
    if (nb) {
      const t = mul(ga, out);
      gb = neg(t);
      t.dispose();
    }
    if (!na) ga.dispose();
    return [na ? ga : null, gb];
  });
/** Elementwise `a ** b`. */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binary('pow', a, b, (g, x, y, out, [na, nb]) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (na) {
      // d/da = b·a^(b-1) = b·out/a is wrong at a = 0; compute a^(b-1) directly.
      const bm1 = sub(y, 1);
      const p = pow(x, bm1);
      const t = mul(p, y);
      ga = mul(g, t);
      for (const z of [bm1, p, t]) z.dispose();
    }
    if (nb) {
      const lx = log(x);
      const u = mul(out, lx);
      gb = mul(g, u);
      lx.dispose();
      u.dispose();
    }
    return [ga, gb];
  });
/** Elementwise maximum; the gradient goes to `a` where a ≥ b. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('maximum', a, b, (g, x, y) => splitByMask(g, ge(x, y)));
/** Elementwise minimum; the gradient goes to `a` where a ≤ b. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binary('minimum', a, b, (g, x, y) => splitByMask(g, le(x, y)));

function splitByMask(g: Tensor, mask: Tensor): [Tensor, Tensor] {
  const zero = full([], 0, { device: g.device, dtype: g.dtype });
  const ga = where(mask, g, zero);
  const gb = where(mask, zero, g);
  zero.dispose();
  mask.dispose();
  return [ga, gb];
}

/** `a == b` as bool. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
/** `a != b` as bool. */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
/** `a < b` as bool. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
/** `a <= b` as bool. */
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
/** `a > b` as bool. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
/** `a >= b` as bool. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
/** Logical and of two tensors (non-zero is true). */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binary('logical_and', a, b);
/** Logical or of two tensors (non-zero is true). */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binary('logical_or', a, b);

/** `-x`. */ export const neg = (x: Tensor): Tensor => unary('neg', x);
/** `|x|`. */ export const abs = (x: Tensor): Tensor => unary('abs', x);
/** `e^x`. */ export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm. */ export const log = (x: Tensor): Tensor => unary('log', x);
/** Square root. */ export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** `1/√x`. */ export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** Sine. */ export const sin = (x: Tensor): Tensor => unary('sin', x);
/** Cosine. */ export const cos = (x: Tensor): Tensor => unary('cos', x);
/** Hyperbolic tangent. */ export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** Logistic sigmoid. */ export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** `max(x, 0)`. */ export const relu = (x: Tensor): Tensor => unary('relu', x);
/** `x·σ(x)` (SiLU, swish). */ export const silu = (x: Tensor): Tensor => unary('silu', x);
/** `-1`, `0` or `1`. */ export const sign = (x: Tensor): Tensor => unary('sign', x);
/** Round down. */ export const floor = (x: Tensor): Tensor => unary('floor', x);
/** Round up. */ export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** Round half to even. */ export const round = (x: Tensor): Tensor => unary('round', x);
/** `1/x`. */ export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** `x²`. */ export const square = (x: Tensor): Tensor => unary('square', x);

/** GELU: `'erf'` (exact, default, as `torch.nn.GELU()`) or `'tanh'` (GPT-2's approximation). */
export function gelu(x: Tensor, approximate: 'erf' | 'tanh' = 'erf'): Tensor {
  return unary(approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf', x);
}

/** Converts to another dtype (floats round to nearest even; float → int truncates toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertDType(dtype, 'cast');
  const device = commonDevice('cast', [x], ['x']);
  if (x.dtype === dtype) {
    // A tracked view: scope() frees it like any op result, and gradients flow through.
    const v = x.view(x.shape, x.strides, x.offset);
    if (needsGrad(x)) record('cast', [x], [v], [], ([g]) => [g!.share()]);
    return v;
  }
  const [y] = execute('cast', device, [x], [{ shape: x.shape, dtype }], {});
  if (isFloat(dtype) && isFloat(x.dtype) && needsGrad(x)) {
    const from = x.dtype;
    record('cast', [x], [y!], [], ([g]) => [cast(g!, from)]);
  }
  return y!;
}

/** `cond ? a : b` elementwise, broadcasting all three. `cond` must be bool. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor))
    throw new TypeError(`where: cond must be a bool Tensor; got ${typeof cond}`);
  if (cond.dtype !== 'bool')
    throw new TypeError(`where: cond has dtype ${cond.dtype}; expected bool`);
  const ta = a instanceof Tensor ? a : null;
  const tb = b instanceof Tensor ? b : null;
  const like = ta ?? tb;
  const x =
    ta ?? (like ? scalarFor(a as number, like) : full([], a as number, { device: cond.device }));
  const y = tb ?? scalarFor(b as number, x);
  try {
    const device = commonDevice('where', [cond, x, y], ['cond', 'a', 'b']);
    const shape = broadcastShapes('where', cond.shape, x.shape, y.shape);
    const [out] = execute(
      'where',
      device,
      [cond, x, y],
      [{ shape, dtype: promoteTypes(x.dtype, y.dtype) }],
      {},
    );
    if (needsGrad(x, y)) {
      const [needA, needB] = [x.requiresGrad, y.requiresGrad];
      record('where', [null, x, y], [out!], [cond, x, y], ([g], [c, sx, sy]) => {
        const zero = full([], 0, { device, dtype: g!.dtype });
        const ga = needA ? fit(where(c!, g!, zero), sx!) : null;
        const gb = needB ? fit(where(c!, zero, g!), sy!) : null;
        zero.dispose();
        return [null, ga, gb];
      });
    }
    return out!;
  } finally {
    if (!ta) x.dispose();
    if (!tb) y.dispose();
  }
}
