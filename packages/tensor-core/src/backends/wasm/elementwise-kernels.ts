/**
 * Native elementwise kernels: the common unary ops and their gradients over
 * contiguous f32 data, and add/sub/mul/div/maximum/minimum where each operand
 * is full, a scalar, a row broadcast over leading dims or a column broadcast
 * over trailing dims. Other layouts and dtypes run the reference kernel.
 */
import type { TensorView } from '../../backend.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import type { WasmBackend } from './wasm-backend.js';
import {
  Mode,
  isDenseF32,
  isF32Data,
  modeAt,
  prod,
  ptrOf,
  runReference,
  worthThreads,
} from './views.js';

/** Module op codes of the unary ops (assembly/elementwise.ts). */
const UNARY_CODES: Record<string, number> = {
  neg: 0,
  abs: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  rsqrt: 5,
  tanh: 6,
  sigmoid: 7,
  relu: 8,
  silu: 9,
  gelu_tanh: 10,
  gelu_erf: 11,
  square: 12,
  reciprocal: 13,
  floor: 14,
  ceil: 15,
  round: 16,
};

/** Unary ops whose gradient kernel is native. */
const GRAD_CODES: Record<string, number> = Object.fromEntries(
  Object.entries(UNARY_CODES).filter(([n]) => !['abs', 'floor', 'ceil', 'round'].includes(n)),
);

/** Module op codes of the binary ops. */
const BINARY_CODES: Record<string, number> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
};

/** Native ops of this file, for coverage reports. */
export const NATIVE_ELEMENTWISE_OPS = [
  ...Object.keys(UNARY_CODES),
  ...Object.keys(GRAD_CODES).map((n) => `${n}_grad`),
  ...Object.keys(BINARY_CODES),
];

function outF32(v: TensorView): boolean {
  return v.dtype === 'f32';
}

for (const [name, code] of Object.entries(UNARY_CODES)) {
  registerKernel<WasmBackend, unknown>(name, 'wasm', (b, inputs, outputs, attrs) => {
    const [x] = inputs;
    const [y] = outputs;
    if (!isDenseF32(x!) || !outF32(y!)) return runReference(name, b, inputs, outputs, attrs);
    b.count(name, true);
    const n = sizeOf(y!.shape);
    if (n > 0) b.run('unary_f32', [code, ptrOf(x!), ptrOf(y!), n], worthThreads(b, n));
  });
}

for (const [name, code] of Object.entries(GRAD_CODES)) {
  const op = `${name}_grad`;
  registerKernel<WasmBackend, unknown>(op, 'wasm', (b, inputs, outputs, attrs) => {
    const [x, y, g] = inputs;
    const [dx] = outputs;
    if (![x!, y!, g!].every(isDenseF32) || !outF32(dx!) || sizeOf(g!.shape) !== sizeOf(dx!.shape))
      return runReference(op, b, inputs, outputs, attrs);
    b.count(op, true);
    const n = sizeOf(dx!.shape);
    if (n > 0)
      b.run(
        'unary_grad_f32',
        [code, ptrOf(x!), ptrOf(y!), ptrOf(g!), ptrOf(dx!), n],
        worthThreads(b, n, 32768),
      );
  });
}

for (const [name, code] of Object.entries(BINARY_CODES)) {
  registerKernel<WasmBackend, unknown>(name, 'wasm', (b, inputs, outputs, attrs) => {
    const [x, y] = inputs;
    const [z] = outputs;
    const shape = z!.shape;
    if (!isF32Data(x!) || !isF32Data(y!) || !outF32(z!))
      return runReference(name, b, inputs, outputs, attrs);
    // Find a split [outer, inner] at which both operands have a native mode.
    for (let s = 0; s <= shape.length; s++) {
      const ma = modeAt(x!, shape, s);
      const mb = ma === null ? null : modeAt(y!, shape, s);
      if (ma === null || mb === null) continue;
      const full = ma !== Mode.Row && ma !== Mode.Col && mb !== Mode.Row && mb !== Mode.Col;
      const outer = full ? 1 : prod(shape, 0, s);
      const inner = full ? sizeOf(shape) : prod(shape, s);
      b.count(name, true);
      const n = outer * inner;
      if (n > 0)
        b.run(
          'binary_f32',
          [code, ptrOf(x!), ma, ptrOf(y!), mb, ptrOf(z!), outer, inner],
          worthThreads(b, n),
        );
      return;
    }
    runReference(name, b, inputs, outputs, attrs);
  });
}
