/**
 * @fathom/trainer: the `fathom-train` app as a library (the CLI is a thin layer over these):
 * config schema and loading, data preparation, training with exact resume, checkpoints,
 * sweeps and the dashboard server.
 * @packageDocumentation
 */
export {
  trainConfigSchema,
  modelSchema,
  dataSchema,
  optimizerSchema,
  scheduleSchema,
  trainingSchema,
  sampleSchema,
  sweepSchema,
  precisionSchema,
  moeSchema,
  FLOAT_DTYPES,
  BACKENDS,
  BROWN_GENRES,
} from './config/schema.js';
export type {
  TrainConfig,
  TrainConfigInput,
  ModelSection,
  DataSection,
  PrecisionSection,
  MoeSection,
  DistillSection,
} from './config/schema.js';
export { ConfigError, issuesFromZod } from './config/errors.js';
export type { ConfigIssue } from './config/errors.js';
export {
  loadConfig,
  readConfigFile,
  parseConfigText,
  validateConfig,
  parseOverride,
  applyOverrides,
} from './config/load.js';
export type { ConfigOverride } from './config/load.js';
export { dataDirOf, resolveRunConfig, causalLmConfigOf, scheduleOf } from './config/resolve.js';
export { configMarkdown, CONFIG_DOCS_BEGIN, CONFIG_DOCS_END } from './config/markdown.js';
export { prepareData, EOS_TOKEN } from './prepare/prepare.js';
export type { PreparedData, PreparedDataset, PrepareKey } from './prepare/prepare.js';
export { unigramEntropy } from './prepare/unigram.js';
export { runTraining, RUN_FILES } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export {
  buildTraining,
  disposeTraining,
  parameterCounts,
  precisionConfigOf,
  moeConfigOf,
} from './train/build.js';
export type { TrainingParts, ParameterCounts } from './train/build.js';
export { trainStep, layerOf } from './train/step.js';
export type { StepResult, DistillStepResult } from './train/step.js';
export { loadDistillation, disposeDistillation, DistillTrainable } from './train/distill.js';
export type { DistillParts } from './train/distill.js';
export { distillSchema, distillStageSchema } from './config/distill-schema.js';
export { evaluate } from './train/evaluate.js';
export type { EvalResult } from './train/evaluate.js';
export { generate, pickToken } from './train/generate.js';
export type { GenerateOptions } from './train/generate.js';
export { findGenerators, generatorStates, restoreGeneratorStates } from './train/generators.js';
export type { GeneratorStates } from './train/generators.js';
export { SIGNAL_EXIT_CODES } from './train/signals.js';
export { CHECKPOINT_FILES, CHECKPOINT_FORMAT, checkpointName } from './checkpoint/format.js';
export type { TrainerState, CheckpointManifest } from './checkpoint/format.js';
export {
  readCheckpoint,
  latestValidCheckpoint,
  listCheckpoints,
  CorruptCheckpointError,
} from './checkpoint/read.js';
export type { LoadedCheckpoint } from './checkpoint/read.js';
export {
  writeCheckpoint,
  pruneCheckpoints,
  removeStaleCheckpointFiles,
} from './checkpoint/write.js';
export { CHECKPOINT_PAUSE_ENV } from './checkpoint/test-hook.js';
export { exportFinal, FINAL_FILES } from './export/final.js';
export { MetricsLog, parseMetrics } from './metrics/metrics-log.js';
export type {
  MetricsRecord,
  TrainRecord,
  EvalRecord,
  EventRecord,
  MemoryRecord,
  MoeLayerRecord,
} from './metrics/records.js';
export { runSweep } from './sweep/sweep.js';
export type { SweepOptions, SweepResult } from './sweep/sweep.js';
export { combinations, expandSweep } from './sweep/grid.js';
export { formatSweepTable } from './sweep/table.js';
export type { SweepRow } from './sweep/table.js';
export { startDashboard } from './dashboard/server.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export type { Log } from './io.js';
export { consoleLog, silentLog } from './io.js';
