/**
 * @fathom/precision: mixed-precision training for Fathom — dtype policies with
 * per-module and per-layer overrides, autocast of module inputs and weights,
 * f32 master weights with nearest or stochastic rounding, a dynamic loss scaler
 * whose overflow check costs one readback per step, and FP8 (e4m3/e5m2)
 * storage with block scaling and an FP8-weights matmul.
 * @packageDocumentation
 */
export { resolvePolicy, resolvePolicySpec } from './policy.js';
export type {
  F32Op,
  FloatDType,
  ModuleAssignment,
  PolicyOverride,
  PrecisionPolicy,
  ResolvedPolicy,
  ResolvedPolicySpec,
} from './policy.js';
export { applyPolicy } from './autocast.js';
export type { AppliedPolicy } from './autocast.js';
export { MasterWeights, MASTER_WEIGHTS_FORMAT } from './master-weights.js';
export type {
  MasterEntry,
  MasterRounding,
  MasterWeightsMeta,
  MasterWeightsOptions,
  MasterWeightsState,
} from './master-weights.js';
export {
  DynamicLossScaler,
  DEEPSPEED_DEFAULTS,
  LOSS_SCALER_DEFAULTS,
  LOSS_SCALER_FORMAT,
  PYTORCH_GRAD_SCALER_DEFAULTS,
  resolveLossScalerOptions,
} from './loss-scaler.js';
export type {
  LossScalerOptions,
  LossScalerState,
  LossScalerUpdate,
  ResolvedLossScalerOptions,
} from './loss-scaler.js';
export { unscaleAndCount } from './unscale.js';
export { Precision, createPrecision, PRECISION_STATE_FORMAT } from './precision.js';
export type {
  OptimizerFactory,
  PrecisionConfig,
  PrecisionMetrics,
  PrecisionState,
  PrecisionStateMeta,
  PrecisionStepResult,
} from './precision.js';
export { FP8_FORMATS, decodeFp8, encodeFp8, roundToFp8 } from './fp8/format.js';
export type { EncodeFp8Options, Fp8Format, Fp8FormatInfo } from './fp8/format.js';
export { pow2Scale } from './fp8/scale.js';
export { Fp8Tensor, dequantizeFp8, fp8Matmul, quantizeFp8 } from './fp8/fp8-tensor.js';
export type { Fp8Scaling, QuantizeFp8Options } from './fp8/fp8-tensor.js';
export { stochasticBf16Bits } from './kernels/round-kernels.js';
