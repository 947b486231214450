/**
 * @fathom/distill: knowledge distillation of `CausalLm` students from frozen teachers —
 * logit KL with temperature, hidden-state MSE and cosine losses, attention-map and
 * MiniLM-style relation KL, layer maps, and a staged schedule.
 * @packageDocumentation
 */
export { logitKl, logitDistillationLoss, hardLabelLoss } from './losses/logit-kl.js';
export type { LogitKlOptions, LogitDistillationOptions } from './losses/logit-kl.js';
export { hiddenMse } from './losses/hidden-mse.js';
export { cosineEmbeddingLoss } from './losses/cosine.js';
export type { CosineLossOptions } from './losses/cosine.js';
export { attentionKl } from './losses/attention-kl.js';
export type { AttentionKlOptions, HeadReduction } from './losses/attention-kl.js';
export { relationKl, logRelation } from './losses/relation.js';
export type { RelationKlOptions } from './losses/relation.js';
export { mapLayers } from './layer-map.js';
export type { LayerMapSpec, LayerPair } from './layer-map.js';
export { captureForward } from './capture.js';
export type { CaptureRequest, Captured } from './capture.js';
export { FrozenTeacher, freezeTeacher, loadTeacher, TEACHER_FILES } from './teacher.js';
export { DistillationProjections } from './projections.js';
export { DistillationSchedule, DEFAULT_STAGE_WEIGHTS } from './schedule.js';
export type {
  DistillationStage,
  DistillationStageConfig,
  StageKind,
  StageWeights,
} from './schedule.js';
export { distillationLoss } from './distillation-loss.js';
export type {
  DistillationBatch,
  DistillationLossOptions,
  DistillationLossResult,
} from './distillation-loss.js';
