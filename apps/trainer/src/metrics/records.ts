/** The records of `metrics.jsonl`, one JSON object per line. */

/** Device memory as `device.memory()` reports it. */
export interface MemoryRecord {
  liveBytes: number;
  peakBytes: number;
  poolBytes: number;
  liveTensors: number;
}

/** Routing statistics of one MoE layer over the steps since the previous record with them. */
export interface MoeLayerRecord {
  /** Dotted module name, e.g. `model.layers.1.mlp`. */
  name: string;
  /** Tokens routed to each expert (before capacity dropping). */
  tokensPerExpert: number[];
  /** Fraction of tokens that activated each expert (sums to topK). */
  activationFrequency: number[];
  /** Coefficient of variation of the per-expert load (population std / mean). */
  loadCv: number;
  /** Standard deviation of each expert's share of all assignments. */
  normalizedLoadStd: number;
  /** Fraction of token→expert assignments dropped by capacity limits. */
  droppedFraction: number;
}

/** One optimizer step. */
export interface TrainRecord {
  type: 'train';
  step: number;
  /** Mean loss over the step's micro-batches (nats per token). */
  loss: number;
  /** The learning rate this step used. */
  lr: number;
  /** Global gradient norm before clipping (null: the step was skipped for overflow). */
  gradNorm: number | null;
  /** Per-layer gradient norms before clipping, indexed by layer (`model.layers.<i>`); null when skipped. */
  layerGradNorms: number[] | null;
  /** The loss scale the step's gradients were computed with (1 without loss scaling). */
  lossScale: number;
  /** Whether the update was skipped because a gradient overflowed (loss scaling). */
  stepSkipped: boolean;
  /** Steps skipped for overflow since the run began. */
  skippedSteps: number;
  /** Mean MoE balance loss (MoE runs with a balance loss only; not part of `loss`). */
  auxLoss?: number;
  /** Routing statistics per MoE layer since the previous record with them (MoE runs, every `training.logInterval` steps). */
  moe?: MoeLayerRecord[];
  /** Distillation runs: the stage and each loss term's unweighted mean (`loss` is their weighted sum). */
  distill?: {
    stage: 'features' | 'attention' | 'logits';
    stageIndex: number;
    terms: Record<string, number>;
  };
  /** Training tokens per second over this step. */
  tokensPerSecond: number;
  /** Training tokens consumed so far. */
  tokens: number;
  /** Training seconds so far. */
  elapsed: number;
  memory: MemoryRecord;
  /** Wall-clock time (ISO 8601). */
  time: string;
}

/** A validation pass. */
export interface EvalRecord {
  type: 'eval';
  step: number;
  /** Mean validation cross-entropy (nats per token). */
  valLoss: number;
  valPerplexity: number;
  /** Validation tokens scored. */
  valTokens: number;
  /** The validation tokens' unigram entropy: a context-free model cannot go below it. */
  unigramEntropy: number;
  time: string;
}

/** Run life-cycle events (start, resume, interrupt, finish). */
export interface EventRecord {
  type: 'event';
  step: number;
  event: 'start' | 'resume' | 'checkpoint' | 'interrupt' | 'finish';
  detail?: string;
  time: string;
}

/** Any line of `metrics.jsonl`. */
export type MetricsRecord = TrainRecord | EvalRecord | EventRecord;
