/**
 * Registers this package's kernels on first use rather than on import, so the
 * package stays free of import side effects (`sideEffects: false`).
 */
import { registerWasmFallbacks } from '@fathom/tensor-core';
import { registerAdamWKernels } from './adamw-step.js';
import { registerNormKernels } from './norm-kernels.js';
import { registerScaleKernels } from './scale-kernels.js';
import { registerSgdKernels } from './sgd-step.js';

let registered = false;

/**
 * Registers the kernels `adamw_step`, `sgd_step`, `optim_norm_partials`,
 * `optim_norm_finish`, `optim_clip_scale` and `optim_agc_scale` for the
 * `webgpu` and `cpu` backends, and the reference ones for `wasm`. Optimizers and clipping call it themselves;
 * call it directly only to run those kernels through `executeInPlace`. Idempotent.
 */
export function registerOptimKernels(): void {
  if (registered) return;
  registered = true;
  registerAdamWKernels();
  registerSgdKernels();
  registerNormKernels();
  registerScaleKernels();
  // The reference kernels run unchanged on the WebAssembly backend's storage.
  registerWasmFallbacks();
}
