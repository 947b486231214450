/**
 * @fathom/moe: DeepSeek-style mixture-of-experts layers — routed and shared
 * SwiGLU experts, (group-limited) top-k routing, dispatch and combine on the
 * device with a grouped GEMM, capacity dropping, balance losses,
 * auxiliary-loss-free bias balancing and routing statistics.
 * @packageDocumentation
 */
export { MoeLayer } from './moe-layer.js';
export type { MoeLayerOptions } from './moe-layer.js';
export { MoeGate } from './gate.js';
export { MOE_DEFAULTS, resolveMoeConfig, expertCapacity, toHfMoeConfig } from './config.js';
export type { MoeConfig, MoeConfigInput, BalanceWeights } from './config.js';
export { moeForward } from './forward.js';
export type { MoeWeights, MoeForwardResult, BalanceLosses } from './forward.js';
export {
  routingProbabilities,
  seedsBalanceLoss,
  switchBalanceLoss,
  routerZLoss,
  sequenceBalanceLoss,
} from './balance.js';
export { routeTopK, dispatchPlan, gatherRows, combineRows, groupedMatmul } from './ops.js';
export type { RouteOptions, DispatchPlan } from './ops.js';
export type { GroupScore } from './kernels/route.js';
export { registerMoeKernels } from './kernels/register.js';
export { replaceMlpsWithMoe, moeLayers, moeAuxLoss, updateRoutingBias } from './model.js';
export { moeStatistics } from './statistics.js';
export type { MoeLayerStatistics } from './statistics.js';
