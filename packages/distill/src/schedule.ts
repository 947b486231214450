/**
 * A staged distillation schedule: intermediate features first, then attention, then logits
 * (TinyBERT's order), each stage running a number of steps with its own loss weights.
 */

/** The three kinds of stage, each with default weights ({@link DEFAULT_STAGE_WEIGHTS}). */
export type StageKind = 'features' | 'attention' | 'logits';

/** Weights of the loss terms; a term with weight 0 is not computed. */
export interface StageWeights {
  /** Logit KL with temperature (scaled by T²). */
  logits: number;
  /** Hard-label cross-entropy against the targets. */
  hard: number;
  /** Hidden-state MSE over the mapped layers (mean over pairs). */
  hidden: number;
  /** Cosine embedding loss over the mapped layers (mean over pairs). */
  cosine: number;
  /** Attention-map KL over the mapped layers (mean over pairs). */
  attention: number;
  /** MiniLM-style relation KL of the mapped layers' hidden states (mean over pairs). */
  relation: number;
}

/** What a stage weighs when its config names no weights. */
export const DEFAULT_STAGE_WEIGHTS: Readonly<Record<StageKind, Readonly<StageWeights>>> = {
  features: { logits: 0, hard: 0, hidden: 1, cosine: 0, attention: 0, relation: 0 },
  attention: { logits: 0, hard: 0, hidden: 0, cosine: 0, attention: 1, relation: 0 },
  logits: { logits: 1, hard: 0, hidden: 0, cosine: 0, attention: 0, relation: 0 },
};

/** One stage as configured. */
export interface DistillationStageConfig {
  kind: StageKind;
  /** Optimizer steps in this stage (a positive integer). */
  steps: number;
  /** Weights overriding the kind's defaults (missing ones keep the default). */
  weights?: Partial<StageWeights>;
  /** Temperature of the logit KL (default 1). */
  temperature?: number;
}

/** A stage resolved for one step. */
export interface DistillationStage {
  kind: StageKind;
  /** Position of the stage in the schedule. */
  index: number;
  /** Step within the stage (0-based). */
  stepInStage: number;
  weights: StageWeights;
  temperature: number;
}

const WEIGHT_NAMES = ['logits', 'hard', 'hidden', 'cosine', 'attention', 'relation'] as const;

/** See the module comment. Steps past the end stay in the last stage. */
export class DistillationSchedule {
  private readonly stages: DistillationStage[];
  private readonly ends: number[];

  constructor(stages: readonly DistillationStageConfig[]) {
    if (!Array.isArray(stages) || stages.length === 0) {
      throw new RangeError(`DistillationSchedule: stages is empty; expected at least one stage`);
    }
    let end = 0;
    this.ends = [];
    this.stages = stages.map((s, index) => {
      const at = `DistillationSchedule: stages[${index}]`;
      if (!(s.kind in DEFAULT_STAGE_WEIGHTS)) {
        throw new RangeError(
          `${at}.kind is '${String(s.kind)}'; expected 'features', 'attention' or 'logits'`,
        );
      }
      if (!Number.isInteger(s.steps) || s.steps < 1) {
        throw new RangeError(`${at}.steps is ${s.steps}; expected a positive integer`);
      }
      const temperature = s.temperature ?? 1;
      if (!Number.isFinite(temperature) || temperature <= 0) {
        throw new RangeError(`${at}.temperature is ${temperature}; expected a number > 0`);
      }
      const weights = { ...DEFAULT_STAGE_WEIGHTS[s.kind as StageKind], ...(s.weights ?? {}) };
      for (const key of Object.keys(weights)) {
        const w = weights[key as keyof StageWeights];
        if (!(WEIGHT_NAMES as readonly string[]).includes(key)) {
          throw new RangeError(
            `${at}.weights has unknown term '${key}'; expected one of ${WEIGHT_NAMES.join(', ')}`,
          );
        }
        if (!Number.isFinite(w) || w < 0) {
          throw new RangeError(`${at}.weights.${key} is ${w}; expected a finite number ≥ 0`);
        }
      }
      if (WEIGHT_NAMES.every((k) => weights[k] === 0)) {
        throw new RangeError(`${at}.weights are all 0; expected at least one positive weight`);
      }
      end += s.steps;
      this.ends.push(end);
      return { kind: s.kind, index, stepInStage: 0, weights, temperature };
    });
  }

  /** Steps over all stages. */
  get totalSteps(): number {
    return this.ends[this.ends.length - 1]!;
  }

  /** The stage for optimizer step `step` (0-based). */
  stageAt(step: number): DistillationStage {
    if (!Number.isInteger(step) || step < 0) {
      throw new RangeError(
        `DistillationSchedule.stageAt: step is ${step}; expected an integer ≥ 0`,
      );
    }
    let i = this.ends.findIndex((e) => step < e);
    if (i < 0) i = this.stages.length - 1;
    const start = i === 0 ? 0 : this.ends[i - 1]!;
    const stage = this.stages[i]!;
    return { ...stage, weights: { ...stage.weights }, stepInStage: step - start };
  }
}
