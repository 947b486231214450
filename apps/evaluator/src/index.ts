/**
 * @fathom/evaluator: perplexity, generation, log-likelihood tasks, BLEU, checkpoint comparison
 * and a completions service for Fathom checkpoints (the library behind `fathom-eval`).
 * @packageDocumentation
 */
export { loadCheckpoint, checkpointName, CHECKPOINT_FILES } from './checkpoint/load-checkpoint.js';
export type { LoadedCheckpoint } from './checkpoint/load-checkpoint.js';
export { saveCheckpoint } from './checkpoint/save-checkpoint.js';
export {
  quantizeCheckpoint,
  schemeFromName,
  SCHEME_NAMES,
} from './checkpoint/quantize-checkpoint.js';
export type { QuantizeCheckpointReport } from './checkpoint/quantize-checkpoint.js';
export { readSafetensorsMetadata } from './checkpoint/safetensors-header.js';
export { planWindows } from './perplexity/window-plan.js';
export type { ScoringWindow } from './perplexity/window-plan.js';
export { slidingWindowNll } from './perplexity/sliding-perplexity.js';
export type { SlidingWindowOptions, SequenceNll } from './perplexity/sliding-perplexity.js';
export { perplexityOf } from './perplexity/perplexity-report.js';
export type { PerplexityReport } from './perplexity/perplexity-report.js';
export { loadEvalSequences, documentStartToken } from './perplexity/data-source.js';
export type { EvalDataOptions } from './perplexity/data-source.js';
export { sampleToken, argmax, validateSampling } from './generate/sampling.js';
export type { SamplingOptions } from './generate/sampling.js';
export { Utf8StreamDecoder } from './generate/utf8-stream.js';
export { StopStringFilter } from './generate/stop-strings.js';
export { decodeBatch } from './generate/decode-batch.js';
export type {
  DecodeRequest,
  DecodeResult,
  DecodeBatchOptions,
  FinishReason,
} from './generate/decode-batch.js';
export { generate, promptIds } from './generate/generate.js';
export type { GenerateOptions, GenerateResult } from './generate/generate.js';
export { classificationMetrics } from './tasks/classification-metrics.js';
export type { ClassificationMetrics, ClassScores } from './tasks/classification-metrics.js';
export { parseTaskJsonl, formatTaskJsonl } from './tasks/task-format.js';
export type { EvalTask, TaskExample, TaskType } from './tasks/task-format.js';
export { encodePair, scoreLoglikelihood } from './tasks/loglikelihood.js';
export type { LoglikelihoodRequest, LoglikelihoodResult } from './tasks/loglikelihood.js';
export { runTask } from './tasks/run-task.js';
export type { TaskReport, TaskPrediction } from './tasks/run-task.js';
export { buildBrownTask, BUILTIN_TASKS, GENRE_CHOICES } from './tasks/brown-tasks.js';
export type { BuiltinTaskName, BrownTaskOptions } from './tasks/brown-tasks.js';
export { corpusBleu, sentenceBleu, computeBleu, formatBleu } from './bleu/bleu.js';
export type { BleuOptions, BleuScore, BleuSmoothing } from './bleu/bleu.js';
export { tokenize13a } from './bleu/tokenizer-13a.js';
export { evaluateCheckpoint, continuationPairs } from './compare/evaluate-checkpoint.js';
export type { CompareOptions, CheckpointMetrics } from './compare/evaluate-checkpoint.js';
export {
  comparisonTable,
  comparisonCharts,
  markdownReport,
  htmlReport,
} from './compare/comparison-report.js';
export { lineChartSvg, barChartSvg } from './compare/svg-charts.js';
export type { LineSeries } from './compare/svg-charts.js';
export { CompletionServer } from './serve/completion-server.js';
export type { CompletionServerOptions } from './serve/completion-server.js';
export { BatchScheduler } from './serve/batch-scheduler.js';
export type { BatchSchedulerOptions, BatchStats } from './serve/batch-scheduler.js';
export { parseCompletionRequest, RequestError } from './serve/completion-request.js';
export type { CompletionRequest, CompletionLimits } from './serve/completion-request.js';
export { LatencyTracker } from './serve/latency-tracker.js';
export { createEvalProgram } from './cli/program.js';
export type { EvalCliIo } from './cli/cli-io.js';
