/**
 * Scoring a multiple-choice or classification task by log-likelihood: the predicted choice has
 * the highest summed log-probability (`acc`), or the highest log-probability per character of
 * the choice (`acc_norm`, lm-evaluation-harness's length normalisation).
 */
import type { ByteLevelBpe } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import { type ClassificationMetrics, classificationMetrics } from './classification-metrics.js';
import { encodePair, scoreLoglikelihood } from './loglikelihood.js';
import type { EvalTask } from './task-format.js';

/** Per-example outcome. */
export interface TaskPrediction {
  id: string;
  label: number;
  /** Argmax of the summed log-likelihoods. */
  predicted: number;
  /** Argmax of the log-likelihoods per character. */
  predictedNorm: number;
  /** Summed log-likelihood of each choice. */
  logprobs: number[];
}

/** The result of {@link runTask}. */
export interface TaskReport {
  name: string;
  type: EvalTask['type'];
  examples: number;
  /** Metrics of the unnormalised predictions (accuracy, macro/micro F1, per class). */
  metrics: ClassificationMetrics;
  /** Accuracy of the length-normalised predictions. */
  accNorm: number;
  /** Macro F1 of the length-normalised predictions. */
  macroF1Norm: number;
  /** Accuracy of always guessing uniformly: mean of 1/choices. */
  chance: number;
  predictions: TaskPrediction[];
}

const argmaxOf = (xs: readonly number[]): number =>
  xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/**
 * Scores every choice of every example and computes the metrics.
 *
 * @param model - the model (eval mode).
 * @param tokenizer - the model's tokenizer.
 * @param task - the task.
 * @param options - how many examples (default all) and the batch size.
 */
export async function runTask(
  model: CausalLm,
  tokenizer: ByteLevelBpe,
  task: EvalTask,
  options: { limit?: number; batchSize?: number } = {},
): Promise<TaskReport> {
  const examples =
    options.limit === undefined ? task.examples : task.examples.slice(0, options.limit);
  if (examples.length === 0) throw new RangeError(`task ${task.name}: no examples to score`);
  const requests = examples.flatMap((e) =>
    e.choices.map((c) => encodePair(tokenizer, e.context, task.delimiter + c)),
  );
  const scores = await scoreLoglikelihood(model, requests, options.batchSize);
  let at = 0;
  const predictions = examples.map((e) => {
    const logprobs = e.choices.map(() => scores[at++]!.logprob);
    const perChar = logprobs.map((lp, i) => lp / Math.max(1, [...e.choices[i]!].length));
    return {
      id: e.id,
      label: e.label,
      predicted: argmaxOf(logprobs),
      predictedNorm: argmaxOf(perChar),
      logprobs,
    };
  });
  const className = (i: number, p: number): string =>
    task.type === 'classification' ? examples[i]!.choices[p]! : String(p);
  const gold = predictions.map((p, i) => className(i, p.label));
  const metrics = classificationMetrics(
    gold,
    predictions.map((p, i) => className(i, p.predicted)),
  );
  const norm = classificationMetrics(
    gold,
    predictions.map((p, i) => className(i, p.predictedNorm)),
  );
  return {
    name: task.name,
    type: task.type,
    examples: examples.length,
    metrics,
    accNorm: norm.accuracy,
    macroF1Norm: norm.macroF1,
    chance: examples.reduce((s, e) => s + 1 / e.choices.length, 0) / examples.length,
    predictions,
  };
}
