/** WebGPU kernels for the elementwise table, cast, copy, where and fill, generated from the table. */
import type { TensorView } from '../../backend.js';
import { computeType, promoteTypes } from '../../dtype.js';
import { f32Bits } from '../../half.js';
import { registerKernel } from '../../registry.js';
import { BINARY, UNARY } from '../../ops/elementwise-table.js';
import { runElementwise } from './elementwise-codegen.js';
import type { WebGpuBackend } from './webgpu-backend.js';
import { loadedType } from './wgsl-dtype.js';

/** Renames the table's variables (x, y, a, b, g) to the generated shader's v0, v1, … */
function bind(expr: string, names: Record<string, string>): string {
  return expr.replace(/\b([xyabg])\b/g, (m) => names[m] ?? m);
}

for (const [name, def] of Object.entries(UNARY)) {
  registerKernel<WebGpuBackend, unknown>(name, 'webgpu', (b, [x], [y]) => {
    const ct = computeType(y!.dtype);
    const expr = ct !== 'f32' && def.intWgsl ? def.intWgsl : def.wgsl;
    runElementwise(b, [x!], y!, bind(expr, { x: 'v0' }), [ct], ct);
  });
  if (def.dwgsl) {
    const dexpr = def.dwgsl;
    registerKernel<WebGpuBackend, unknown>(`${name}_grad`, 'webgpu', (b, [x, y, g], [dx]) =>
      runElementwise(
        b,
        [x!, y!, g!],
        dx!,
        `v2 * (${bind(dexpr, { x: 'v0', y: 'v1' })})`,
        ['f32', 'f32', 'f32'],
        'f32',
      ),
    );
  }
}

for (const [name, def] of Object.entries(BINARY)) {
  registerKernel<WebGpuBackend, unknown>(name, 'webgpu', (b, [x, y], [z]) => {
    const ct = def.predicate
      ? computeType(promoteTypes(x!.dtype, y!.dtype))
      : computeType(z!.dtype);
    const expr = ct !== 'f32' && def.intWgsl ? def.intWgsl : def.wgsl;
    runElementwise(
      b,
      [x!, y!],
      z!,
      bind(expr, { a: 'v0', b: 'v1' }),
      [ct, ct],
      def.predicate ? 'bool' : ct,
    );
  });
}

const identity = (
  b: WebGpuBackend,
  [x]: readonly TensorView[],
  [y]: readonly TensorView[],
): void => {
  const t = loadedType(x!.dtype);
  runElementwise(b, [x!], y!, 'v0', [t], t);
};
registerKernel<WebGpuBackend, unknown>('cast', 'webgpu', identity);
registerKernel<WebGpuBackend, unknown>('copy', 'webgpu', identity);

registerKernel<WebGpuBackend, unknown>('where', 'webgpu', (b, [c, x, y], [z]) => {
  const ct = computeType(z!.dtype);
  runElementwise(b, [c!, x!, y!], z!, 'select(v2, v1, v0 != 0u)', ['u32', ct, ct], ct);
});

registerKernel<WebGpuBackend, { value: number }>('fill', 'webgpu', (b, _in, [y], { value }) => {
  // The value travels as uniform bits so that fills of new values compile nothing.
  const ct = computeType(y!.dtype);
  const bits = ct === 'f32' ? f32Bits(value) : ct === 'i32' ? value | 0 : value >>> 0;
  const expr =
    ct === 'f32'
      ? 'bitcast<f32>(p.offsets.w)'
      : ct === 'i32'
        ? 'bitcast<i32>(p.offsets.w)'
        : 'p.offsets.w';
  runElementwise(b, [], y!, expr, [], ct, bits >>> 0);
});
