/**
 * The declarative table of elementwise ops. Each entry gives the forward as a
 * WGSL expression and a JavaScript function, and (for differentiable unary ops)
 * the derivative dy/dx as an expression of x and y. The WebGPU kernels, the
 * reference kernels and the backward rules are all generated from this table.
 */

/** A unary op: `y = f(x)`, computed in f32 (or the integer type for integer-capable ops). */
export interface UnaryDef {
  /** WGSL expression of `x`. */
  wgsl: string;
  /** Reference implementation. */
  ref: (x: number) => number;
  /** dy/dx as a WGSL expression of `x` and `y`; absent for non-differentiable ops. */
  dwgsl?: string;
  /** dy/dx for the reference backend. */
  dref?: (x: number, y: number) => number;
  /** Also defined on integers (with this WGSL expression; `x` is i32 or u32). */
  intWgsl?: string;
}

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;

/** Error function, Abramowitz–Stegun 7.1.26 is too coarse for an oracle; this series/continued fraction is exact to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges quickly for |x| < 2.5.
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x > 0 ? 1 - erfc : erfc - 1;
}

// WGSL has no erf: this rational approximation (W. J. Cody's, via the erf of
// Numerical Recipes' erfc with |error| < 1.2e-7) is within f32 rounding.
const WGSL_ERF = `fathom_erf(x)`;

/** WGSL helper functions the table's expressions use. */
export const WGSL_HELPERS = /* wgsl */ `
fn fathom_erf(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
      t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
fn fathom_sigmoid(x: f32) -> f32 {
  return select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0);
}
fn fathom_tanh(x: f32) -> f32 {
  // tanh() of large |x| returns NaN on some drivers; clamp where it is ±1 in f32 anyway.
  return tanh(clamp(x, -15.0, 15.0));
}
`;

const sigmoid = (x: number): number =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));

/** Every unary elementwise op. */
export const UNARY: Record<string, UnaryDef> = {
  neg: { wgsl: '-x', ref: (x) => -x, dwgsl: '-1.0', dref: () => -1, intWgsl: '-x' },
  abs: {
    wgsl: 'abs(x)',
    ref: Math.abs,
    dwgsl: 'sign(x)',
    dref: (x) => Math.sign(x),
    intWgsl: 'abs(x)',
  },
  exp: { wgsl: 'exp(x)', ref: Math.exp, dwgsl: 'y', dref: (_x, y) => y },
  log: { wgsl: 'log(x)', ref: Math.log, dwgsl: '1.0 / x', dref: (x) => 1 / x },
  sqrt: { wgsl: 'sqrt(x)', ref: Math.sqrt, dwgsl: '0.5 / y', dref: (_x, y) => 0.5 / y },
  rsqrt: {
    wgsl: 'inverseSqrt(x)',
    ref: (x) => 1 / Math.sqrt(x),
    dwgsl: '-0.5 * y * y * y',
    dref: (_x, y) => -0.5 * y * y * y,
  },
  sin: { wgsl: 'sin(x)', ref: Math.sin, dwgsl: 'cos(x)', dref: (x) => Math.cos(x) },
  cos: { wgsl: 'cos(x)', ref: Math.cos, dwgsl: '-sin(x)', dref: (x) => -Math.sin(x) },
  tanh: {
    wgsl: 'fathom_tanh(x)',
    ref: Math.tanh,
    dwgsl: '1.0 - y * y',
    dref: (_x, y) => 1 - y * y,
  },
  sigmoid: {
    wgsl: 'fathom_sigmoid(x)',
    ref: sigmoid,
    dwgsl: 'y * (1.0 - y)',
    dref: (_x, y) => y * (1 - y),
  },
  relu: {
    wgsl: 'max(x, 0.0)',
    ref: (x) => Math.max(x, 0),
    dwgsl: 'select(0.0, 1.0, x > 0.0)',
    dref: (x) => (x > 0 ? 1 : 0),
  },
  silu: {
    wgsl: 'x * fathom_sigmoid(x)',
    ref: (x) => x * sigmoid(x),
    dwgsl: 'fathom_sigmoid(x) * (1.0 + x * (1.0 - fathom_sigmoid(x)))',
    dref: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))),
  },
  // GELU, tanh approximation (GPT-2's): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  gelu_tanh: {
    wgsl: `0.5 * x * (1.0 + fathom_tanh(${SQRT_2_OVER_PI} * (x + ${GELU_C} * x * x * x)))`,
    ref: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
    dwgsl: `0.5 * (1.0 + fathom_tanh(${SQRT_2_OVER_PI} * (x + ${GELU_C} * x * x * x))) + 0.5 * x * (1.0 - fathom_tanh(${SQRT_2_OVER_PI} * (x + ${GELU_C} * x * x * x)) * fathom_tanh(${SQRT_2_OVER_PI} * (x + ${GELU_C} * x * x * x))) * ${SQRT_2_OVER_PI} * (1.0 + ${3 * GELU_C} * x * x)`,
    dref: (x) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
    },
  },
  // GELU, exact form: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
  gelu_erf: {
    wgsl: `0.5 * x * (1.0 + ${WGSL_ERF.replace('(x)', '(x * 0.7071067811865476)')})`,
    ref: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    dwgsl: `0.5 * (1.0 + fathom_erf(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x)`,
    dref: (x) =>
      0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
  },
  sign: { wgsl: 'sign(x)', ref: Math.sign, intWgsl: 'sign(x)' },
  floor: { wgsl: 'floor(x)', ref: Math.floor },
  ceil: { wgsl: 'ceil(x)', ref: Math.ceil },
  // IEEE round-half-to-even, like torch.round and WGSL's round().
  round: {
    wgsl: 'round(x)',
    ref: (x) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
  },
  reciprocal: { wgsl: '1.0 / x', ref: (x) => 1 / x, dwgsl: '-y * y', dref: (_x, y) => -y * y },
  square: {
    wgsl: 'x * x',
    ref: (x) => x * x,
    dwgsl: '2.0 * x',
    dref: (x) => 2 * x,
    intWgsl: 'x * x',
  },
};

/** A binary op: `y = f(a, b)` over the promoted dtype. */
export interface BinaryDef {
  /** WGSL expression of `a` and `b` (both of the compute type). */
  wgsl: string;
  ref: (a: number, b: number) => number;
  /** Result is `bool` (comparisons). */
  predicate?: boolean;
  /** Integer inputs are promoted to f32 first (true division, pow). */
  floatOnly?: boolean;
  /** WGSL for integer compute types, when it differs. */
  intWgsl?: string;
}

/** Every binary elementwise op. */
export const BINARY: Record<string, BinaryDef> = {
  add: { wgsl: 'a + b', ref: (a, b) => a + b },
  sub: { wgsl: 'a - b', ref: (a, b) => a - b },
  mul: { wgsl: 'a * b', ref: (a, b) => a * b },
  div: { wgsl: 'a / b', ref: (a, b) => a / b, floatOnly: true },
  // pow with WGSL's pow() is undefined for a < 0: compute |a|^b with the sign of odd integer b.
  pow: {
    wgsl: 'fathom_pow(a, b)',
    ref: (a, b) => Math.pow(a, b),
    floatOnly: true,
  },
  maximum: { wgsl: 'max(a, b)', ref: Math.max },
  minimum: { wgsl: 'min(a, b)', ref: Math.min },
  eq: { wgsl: 'a == b', ref: (a, b) => +(a === b), predicate: true },
  ne: { wgsl: 'a != b', ref: (a, b) => +(a !== b), predicate: true },
  lt: { wgsl: 'a < b', ref: (a, b) => +(a < b), predicate: true },
  le: { wgsl: 'a <= b', ref: (a, b) => +(a <= b), predicate: true },
  gt: { wgsl: 'a > b', ref: (a, b) => +(a > b), predicate: true },
  ge: { wgsl: 'a >= b', ref: (a, b) => +(a >= b), predicate: true },
  logical_and: {
    wgsl: '(a != 0) && (b != 0)',
    ref: (a, b) => +(a !== 0 && b !== 0),
    predicate: true,
  },
  logical_or: {
    wgsl: '(a != 0) || (b != 0)',
    ref: (a, b) => +(a !== 0 || b !== 0),
    predicate: true,
  },
};

/** WGSL helpers for binary ops. */
export const WGSL_BINARY_HELPERS = /* wgsl */ `
fn fathom_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (b != floor(b)) { return fathom_nan(); }
  let m = pow(-a, b);
  return select(m, -m, fract(b * 0.5) != 0.0);
}
`;
