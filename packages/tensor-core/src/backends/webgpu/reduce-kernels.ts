/** WebGPU kernels of sum, mean, max, min and prod over any axes. */
import { computeType } from '../../dtype.js';
import { registerKernel } from '../../registry.js';
import { type ReduceRule, runReduce } from './reduce-codegen.js';
import type { WebGpuBackend } from './webgpu-backend.js';

/** Attributes of every reduction kernel: the axes to reduce (sorted, distinct). */
export interface ReduceAttrs {
  axes: number[];
}

function rules(acc: 'f32' | 'i32' | 'u32'): Record<string, ReduceRule> {
  const lowest = acc === 'f32' ? '-fathom_inf()' : acc === 'i32' ? 'i32(-2147483648)' : '0u';
  const highest = acc === 'f32' ? 'fathom_inf()' : acc === 'i32' ? '2147483647i' : '0xffffffffu';
  return {
    sum: { acc, init: `${acc}(0)`, combine: 'acc + v', finalize: 'acc' },
    mean: { acc: 'f32', init: '0.0', combine: 'acc + v', finalize: 'acc / n' },
    prod: { acc, init: `${acc}(1)`, combine: 'acc * v', finalize: 'acc' },
    max: { acc, init: lowest, combine: 'max(acc, v)', finalize: 'acc' },
    min: { acc, init: highest, combine: 'min(acc, v)', finalize: 'acc' },
  };
}

for (const op of ['sum', 'mean', 'prod', 'max', 'min']) {
  registerKernel<WebGpuBackend, ReduceAttrs>(op, 'webgpu', (b, [x], [y], { axes }) =>
    runReduce(b, x!, y!, axes, rules(computeType(y!.dtype))[op]!),
  );
}
