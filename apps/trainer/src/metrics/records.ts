/** The records of `metrics.jsonl`, one JSON object per line. */

/** Device memory as `device.memory()` reports it. */
export interface MemoryRecord {
  liveBytes: number;
  peakBytes: number;
  poolBytes: number;
  liveTensors: number;
}

/** One optimizer step. */
export interface TrainRecord {
  type: 'train';
  step: number;
  /** Mean loss over the step's micro-batches (nats per token). */
  loss: number;
  /** The learning rate this step used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Per-layer gradient norms before clipping, indexed by layer (`model.layers.<i>`). */
  layerGradNorms: number[];
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
