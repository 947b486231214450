/**
 * Cosine embedding loss (DistilBERT aligns hidden-state directions with it):
 * `mean over positions of 1 − cos(W·s, t)`.
 */
import {
  type Tensor,
  detach,
  div,
  maximum,
  mean,
  mul,
  scope,
  sqrt,
  sub,
  sum,
} from '@fathom/tensor-core';
import type { Linear } from '@fathom/nn-layers';
import { floatRank, positive } from './checks.js';
import { projectTo, sameLeading } from './hidden-mse.js';

/** Options of {@link cosineEmbeddingLoss}. */
export interface CosineLossOptions {
  /** Projection `Linear(studentWidth, teacherWidth)` when widths differ. */
  projection?: Linear | null;
  /** Floor of `‖s‖·‖t‖` (as PyTorch's cosine_similarity, default 1e-8). */
  eps?: number;
}

/** `mean(1 − (s·t) / max(‖s‖‖t‖, eps))` over every position (last dim = features). Teacher detached. */
export function cosineEmbeddingLoss(
  student: Tensor,
  teacher: Tensor,
  options: CosineLossOptions = {},
): Tensor {
  const eps = options.eps ?? 1e-8;
  positive('cosineEmbeddingLoss', 'eps', eps);
  floatRank('cosineEmbeddingLoss', 'student', student, 1);
  floatRank('cosineEmbeddingLoss', 'teacher', teacher, 1);
  sameLeading('cosineEmbeddingLoss', student, teacher);
  return scope(() => {
    const s = projectTo('cosineEmbeddingLoss', student, teacher, options.projection);
    const t = detach(teacher);
    const dot = sum(mul(s, t), { axis: -1 });
    const norms = sqrt(mul(sum(mul(s, s), { axis: -1 }), sum(mul(t, t), { axis: -1 })));
    const cos = div(dot, maximum(norms, eps));
    return sub(1, mean(cos));
  });
}
