/**
 * Logit distillation (Hinton et al., 2015): the KL divergence from the teacher's
 * temperature-softened distribution to the student's, scaled by T² so its gradients keep
 * their size as T changes, optionally mixed with hard-label cross-entropy.
 */
import {
  type Tensor,
  crossEntropy,
  detach,
  div,
  exp,
  logSoftmax,
  mean,
  mul,
  reshape,
  scope,
  sub,
  sum,
  add,
} from '@fathom/tensor-core';
import { floatRank, positive, sameShape, unitInterval } from './checks.js';

/** Options of {@link logitKl}. */
export interface LogitKlOptions {
  /** Softmax temperature T (default 1). */
  temperature?: number;
}

/**
 * `T² · mean over rows of KL(softmax(t/T) ‖ softmax(s/T))` for logits `[..., vocab]`.
 * The teacher's logits are detached: no gradient reaches them.
 */
export function logitKl(student: Tensor, teacher: Tensor, options: LogitKlOptions = {}): Tensor {
  const temperature = options.temperature ?? 1;
  positive('logitKl', 'temperature', temperature);
  floatRank('logitKl', 'student', student, 1);
  sameShape('logitKl', 'student', student, 'teacher', teacher);
  return scope(() => {
    const logQ = logSoftmax(div(student, temperature), -1);
    const logP = logSoftmax(div(detach(teacher), temperature), -1);
    const rows = sum(mul(exp(logP), sub(logP, logQ)), { axis: -1 });
    return mul(mean(rows), temperature * temperature);
  });
}

/** Options of {@link logitDistillationLoss}. */
export interface LogitDistillationOptions extends LogitKlOptions {
  /** Weight α of the hard-label cross-entropy: `(1 − α)·KD + α·CE` (default 0). */
  hardWeight?: number;
  /** Target value skipped by the cross-entropy (default −100). */
  ignoreIndex?: number;
}

/**
 * `(1 − α) · logitKl(student, teacher) + α · crossEntropy(student, targets)`.
 * `targets` (i32 `[...]`, the logits' shape without the vocabulary) is needed only when α > 0.
 */
export function logitDistillationLoss(
  student: Tensor,
  teacher: Tensor,
  targets: Tensor | null,
  options: LogitDistillationOptions = {},
): Tensor {
  const alpha = options.hardWeight ?? 0;
  unitInterval('logitDistillationLoss', 'hardWeight', alpha);
  if (alpha === 0) return logitKl(student, teacher, options);
  if (!targets) {
    throw new TypeError(
      `logitDistillationLoss: targets is null; expected i32 targets because hardWeight is ${alpha}`,
    );
  }
  return scope(() => {
    const ce = hardLabelLoss(student, targets, options.ignoreIndex ?? -100);
    if (alpha === 1) return ce;
    return add(mul(logitKl(student, teacher, options), 1 - alpha), mul(ce, alpha));
  });
}

/** Mean next-token cross-entropy of logits `[..., vocab]` against i32 targets `[...]`. */
export function hardLabelLoss(student: Tensor, targets: Tensor, ignoreIndex = -100): Tensor {
  const vocab = student.shape[student.rank - 1]!;
  if (targets.size * vocab !== student.size) {
    throw new RangeError(
      `hardLabelLoss: targets has shape [${targets.shape.join(',')}]; expected the logits' shape [${student.shape.join(',')}] without its last dim`,
    );
  }
  return scope(() =>
    crossEntropy(reshape(student, [-1, vocab]), reshape(targets, [-1]), { ignoreIndex }),
  );
}
