/**
 * Registers this package's kernels on first use rather than on import, so the
 * package stays free of import side effects (`sideEffects: false`).
 */
import { getKernel, hasKernel, registerKernel } from '@fathom/tensor-core';
import { BIAS_UPDATE, LOAD_ACCUMULATE, registerAccumulateKernels } from './accumulate.js';
import { GROUPED_MATMUL, GROUPED_WGRAD, registerGroupedMatmulKernels } from './grouped-matmul.js';
import { PLAN, registerPlanKernels } from './plan.js';
import { ROUTE, registerRouteKernels } from './route.js';
import { COMBINE, COMBINE_WGRAD, GATHER_ROWS, registerRowKernels } from './rows.js';

let registered = false;

/**
 * Registers `moe_route`, `moe_plan`, `moe_gather_rows`, `moe_combine`,
 * `moe_combine_wgrad`, `moe_grouped_matmul`, `moe_grouped_wgrad`,
 * `moe_load_accumulate` and `moe_bias_update` for the `webgpu` and `cpu`
 * backends, and the reference kernels for `wasm` where that backend has none
 * (its storage exposes the same typed arrays). The ops of this package call it
 * themselves. Idempotent.
 */
export function registerMoeKernels(): void {
  if (registered) return;
  registered = true;
  registerRouteKernels();
  registerPlanKernels();
  registerRowKernels();
  registerGroupedMatmulKernels();
  registerAccumulateKernels();
  // The wasm backend adds reference fallbacks when a device opens; these kernels
  // register later (on first use), so they bring their own.
  for (const op of [
    ROUTE,
    PLAN,
    GATHER_ROWS,
    COMBINE,
    COMBINE_WGRAD,
    GROUPED_MATMUL,
    GROUPED_WGRAD,
    LOAD_ACCUMULATE,
    BIAS_UPDATE,
  ])
    if (!hasKernel(op, 'wasm')) registerKernel(op, 'wasm', getKernel(op, 'cpu'));
}
