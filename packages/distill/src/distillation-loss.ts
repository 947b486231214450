/**
 * The loss of one distillation step: runs the student (with autograd) and the frozen
 * teacher (without), captures what the stage's terms need, and returns their weighted sum.
 */
import type { CausalLm } from '@fathom/nn-layers';
import { type Tensor, add, mul, scope } from '@fathom/tensor-core';
import { captureForward } from './capture.js';
import type { LayerPair } from './layer-map.js';
import { attentionKl, type HeadReduction } from './losses/attention-kl.js';
import { cosineEmbeddingLoss } from './losses/cosine.js';
import { hiddenMse } from './losses/hidden-mse.js';
import { hardLabelLoss, logitKl } from './losses/logit-kl.js';
import { relationKl } from './losses/relation.js';
import type { DistillationProjections } from './projections.js';
import type { DistillationStage, StageWeights } from './schedule.js';
import type { FrozenTeacher } from './teacher.js';

/** One batch: token ids i32 `[B, T]` and next-token targets i32 `[B, T]` (needed for the hard loss). */
export interface DistillationBatch {
  ids: Tensor;
  targets?: Tensor;
}

/** Settings shared by every step. */
export interface DistillationLossOptions {
  /** Matched layers (from `mapLayers`); needed by hidden, cosine, attention and relation terms. */
  pairs?: readonly LayerPair[];
  /** Projections for hidden and cosine terms when widths differ. */
  projections?: DistillationProjections;
  /** Attention-map head rule (default `'group'`). */
  heads?: HeadReduction;
  /** Relation heads of the relation term (default 1). */
  relationHeads?: number;
}

/** What {@link distillationLoss} returns; the caller owns every tensor. */
export interface DistillationLossResult {
  /** The weighted sum, a scalar with a graph into the student (and projections). */
  loss: Tensor;
  /** Each computed term before weighting, by name. */
  terms: Partial<Record<keyof StageWeights, Tensor>>;
}

function meanOver(pairs: readonly LayerPair[], term: (p: LayerPair) => Tensor): Tensor {
  let total: Tensor | null = null;
  for (const p of pairs) {
    const v = term(p);
    total = total ? add(total, v) : v;
  }
  return mul(total!, 1 / pairs.length);
}

/** The loss of `stage` for `batch`. See the module comment. */
export function distillationLoss(
  student: CausalLm,
  teacher: FrozenTeacher,
  batch: DistillationBatch,
  stage: DistillationStage,
  options: DistillationLossOptions = {},
): DistillationLossResult {
  const w = stage.weights;
  const pairs = options.pairs ?? [];
  const needHidden = w.hidden > 0 || w.cosine > 0 || w.relation > 0;
  const needAttention = w.attention > 0;
  if ((needHidden || needAttention) && pairs.length === 0) {
    throw new RangeError(
      `distillationLoss: stage '${stage.kind}' weighs layer terms but options.pairs is empty; pass mapLayers(...)`,
    );
  }
  if (w.hard > 0 && !batch.targets) {
    throw new TypeError(
      `distillationLoss: batch.targets is missing; the hard-label weight is ${w.hard}`,
    );
  }
  const needTeacherLogits = w.logits > 0;
  return scope(() => {
    const s = captureForward(student, batch.ids, {
      hidden: needHidden ? pairs.map((p) => p.student) : [],
      attention: needAttention ? pairs.map((p) => p.student - 1) : [],
    });
    const t =
      needHidden || needAttention || needTeacherLogits
        ? teacher.forward(batch.ids, {
            hidden: needHidden ? pairs.map((p) => p.teacher) : [],
            attention: needAttention ? pairs.map((p) => p.teacher - 1) : [],
          })
        : null;
    const terms: Partial<Record<keyof StageWeights, Tensor>> = {};
    if (w.logits > 0) terms.logits = logitKl(s.logits, t!.logits, stage);
    if (w.hard > 0) {
      terms.hard = hardLabelLoss(s.logits, batch.targets!);
    }
    const proj = (p: LayerPair) => options.projections?.forLayer(p.student) ?? null;
    if (w.hidden > 0) {
      terms.hidden = meanOver(pairs, (p) =>
        hiddenMse(s.hidden.get(p.student)!, t!.hidden.get(p.teacher)!, proj(p)),
      );
    }
    if (w.cosine > 0) {
      terms.cosine = meanOver(pairs, (p) =>
        cosineEmbeddingLoss(s.hidden.get(p.student)!, t!.hidden.get(p.teacher)!, {
          projection: proj(p),
        }),
      );
    }
    if (w.attention > 0) {
      terms.attention = meanOver(pairs, (p) =>
        attentionKl(s.attention.get(p.student - 1)!, t!.attention.get(p.teacher - 1)!, {
          ...(options.heads ? { heads: options.heads } : {}),
        }),
      );
    }
    if (w.relation > 0) {
      terms.relation = meanOver(pairs, (p) =>
        relationKl(s.hidden.get(p.student)!, t!.hidden.get(p.teacher)!, {
          relationHeads: options.relationHeads ?? 1,
        }),
      );
    }
    let loss: Tensor | null = null;
    for (const [name, value] of Object.entries(terms) as [keyof StageWeights, Tensor][]) {
      const weighted = mul(value, w[name]);
      loss = loss ? add(loss, weighted) : weighted;
    }
    return { loss: loss!, terms };
  });
}
