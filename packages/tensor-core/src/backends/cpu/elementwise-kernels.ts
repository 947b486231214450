/** Reference kernels for every op of the elementwise table, plus cast, copy and where. */
import type { TensorView } from '../../backend.js';
import { type DType, isFloat } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { BINARY, UNARY } from '../../ops/elementwise-table.js';
import { type CpuBackend, dataOf, storeAs } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** Applies fn elementwise over inputs broadcast to the output's shape. */
export function mapKernel(
  backend: CpuBackend,
  inputs: readonly TensorView[],
  out: TensorView,
  fn: (...args: number[]) => number,
): void {
  const vals = inputs.map((v) => valuesOf(v, out.shape));
  const data = dataOf(out.handle);
  const store = storeAs(out.dtype, backend.float64);
  const n = data.length;
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < vals.length; k++) args[k] = vals[k]![i]!;
    data[i] = store(fn(...args));
  }
}

// Integer arithmetic wraps like WGSL's i32/u32 (JavaScript numbers would not).
function intBinary(name: string, dtype: DType): ((a: number, b: number) => number) | undefined {
  if (isFloat(dtype) || dtype === 'bool') return undefined;
  const wrap = dtype === 'i32' ? (v: number) => v | 0 : (v: number) => v >>> 0;
  if (name === 'add') return (a, b) => wrap(a + b);
  if (name === 'sub') return (a, b) => wrap(a - b);
  if (name === 'mul') return (a, b) => wrap(Math.imul(a, b));
  return undefined;
}

for (const [name, def] of Object.entries(UNARY)) {
  registerKernel<CpuBackend, unknown>(name, 'cpu', (b, [x], [y]) =>
    mapKernel(b, [x!], y!, def.ref),
  );
  const dref = def.dref;
  if (dref) {
    registerKernel<CpuBackend, unknown>(`${name}_grad`, 'cpu', (b, [x, y, g], [dx]) =>
      mapKernel(b, [x!, y!, g!], dx!, (xv, yv, gv) => gv * dref(xv, yv)),
    );
  }
}

for (const [name, def] of Object.entries(BINARY)) {
  registerKernel<CpuBackend, unknown>(name, 'cpu', (b, [x, y], [z]) =>
    mapKernel(b, [x!, y!], z!, intBinary(name, z!.dtype) ?? def.ref),
  );
}

registerKernel<CpuBackend, unknown>('cast', 'cpu', (b, [x], [y]) =>
  mapKernel(b, [x!], y!, (v) => v),
);
registerKernel<CpuBackend, unknown>('copy', 'cpu', (b, [x], [y]) =>
  mapKernel(b, [x!], y!, (v) => v),
);
registerKernel<CpuBackend, unknown>('where', 'cpu', (b, [c, x, y], [z]) =>
  mapKernel(b, [c!, x!, y!], z!, (cv, xv, yv) => (cv !== 0 ? xv : yv)),
);
/** fill: attrs.value into every element. */
registerKernel<CpuBackend, { value: number }>('fill', 'cpu', (b, _in, [y], { value }) =>
  mapKernel(b, [], y!, () => value),
);
