/**
 * @fathom/optim: optimizers with fused WebGPU kernels (AdamW, Sgd), parameter
 * groups, learning-rate schedules, gradient clipping and accumulation, and
 * state dicts that resume bit-for-bit.
 * @packageDocumentation
 */
export { Optimizer } from './optimizer.js';
export type {
  HyperParams,
  OptimizerOptions,
  ParamGroup,
  ParamState,
  StepContext,
  StepHook,
  StepOptions,
} from './optimizer.js';
export { STATE_FORMAT, stateKey } from './state-dict.js';
export type {
  JsonValue,
  OptimizerMeta,
  OptimizerStateDict,
  OptimizerStateInput,
} from './state-dict.js';
export { DEFAULT_NO_DECAY } from './param-groups.js';
export type { NamedParameter, NoDecayRule, ParamGroupSpec, ParamsInput } from './param-groups.js';
export { AdamW, ADAMW_DEFAULTS } from './adamw.js';
export type { AdamWHyperParams, AdamWOptions } from './adamw.js';
export { Sgd, SGD_DEFAULTS } from './sgd.js';
export type { SgdHyperParams, SgdOptions } from './sgd.js';
export {
  constantLr,
  cosineDecay,
  cosineWarmRestarts,
  linearDecay,
  linearWarmup,
  warmupCosine,
} from './schedules.js';
export type {
  CosineDecayOptions,
  CosineWarmRestartsOptions,
  LinearDecayOptions,
  LrSchedule,
  ScheduleDescription,
  WarmupCosineOptions,
  WarmupOptions,
} from './schedules.js';
export { LrScheduler } from './scheduler.js';
export type { LrSchedulerState } from './scheduler.js';
export { clipGradAdaptive, clipGradNorm } from './clip.js';
export type { ClipGradAdaptiveOptions, ClipGradNormOptions, ParamList } from './clip.js';
export { normsOf } from './norms.js';
export type { DeviceNorms } from './norms.js';
export { gradNormReport } from './grad-norm-report.js';
export type { GradNormReport, GradNormReportOptions } from './grad-norm-report.js';
export { GradientAccumulator } from './accumulate.js';
export { GradNormWeightDecay } from './weight-decay.js';
export type { GradNormWeightDecayOptions } from './weight-decay.js';
export { registerOptimKernels } from './kernels/register.js';
export { ADAMW_STEP } from './kernels/adamw-step.js';
export type { AdamWStepAttrs } from './kernels/adamw-step.js';
export { SGD_STEP } from './kernels/sgd-step.js';
export type { SgdStepAttrs } from './kernels/sgd-step.js';
