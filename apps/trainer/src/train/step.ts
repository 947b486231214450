/**
 * One optimizer step: forward and backward over `accumulation` micro-batches through
 * precision (loss scaling, master gradients), the MoE balance loss when the model has MoE
 * layers, gradient norms (global and per layer, before clipping, on unscaled f32 gradients),
 * clipping, the update, the schedule and the routing-bias update, with a single readback of
 * the loss and the norms at the end (plus precision's one overflow readback when it scales).
 */
import type { TokenWindowLoader } from '@fathom/data-pipeline';
import { distillationLoss } from '@fathom/distill';
import { moeAuxLoss, updateRoutingBias } from '@fathom/moe';
import { clipGradNorm, normsOf } from '@fathom/optim';
import {
  type Device,
  type Tensor,
  add,
  concat,
  fromArray,
  mul,
  noGrad,
  reshape,
  scope,
} from '@fathom/tensor-core';
import type { TrainingParts } from './build.js';

/** What one step measured. */
export interface StepResult {
  /** Mean language-model loss over the micro-batches (the MoE balance loss not included). */
  loss: number;
  /** Mean MoE balance loss over the micro-batches (null without MoE balance losses). */
  auxLoss: number | null;
  /** The lr the update used. */
  lr: number;
  /** Global gradient norm before clipping (null when the step was skipped for overflow). */
  gradNorm: number | null;
  /** Per layer (`model.layers.<i>`), before clipping (null when skipped). */
  layerGradNorms: number[] | null;
  /** Tokens consumed. */
  tokens: number;
  /** The loss scale the step's gradients were computed with (1 without loss scaling). */
  lossScale: number;
  /** Whether the update was skipped because a gradient overflowed. */
  skipped: boolean;
  /** Steps skipped for overflow since the run began. */
  skippedSteps: number;
  /** In a distillation run: the stage and each term's mean (unweighted) over the micro-batches. */
  distill?: DistillStepResult;
}

/** The distillation part of a {@link StepResult}. */
export interface DistillStepResult {
  stage: 'features' | 'attention' | 'logits';
  /** Position of the stage in the schedule. */
  stageIndex: number;
  terms: Record<string, number>;
}

/** Index of the decoder layer a parameter belongs to, or -1 (embeddings, final norm, head). */
export function layerOf(name: string): number {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

function accumulate(sum: Tensor | undefined, value: Tensor): Tensor {
  return noGrad(() => (sum ? add(sum, value) : value.detach()));
}

/**
 * Runs one optimizer step. `step` (0-based, the steps completed before this one) picks the
 * distillation stage; without a distill section it is unused. With one, `loss` is the weighted
 * distillation loss, and the terms come back in the same single readback.
 */
export async function trainStep(
  parts: TrainingParts,
  loader: TokenWindowLoader,
  device: Device,
  clipNorm: number | null,
  step = 0,
): Promise<StepResult> {
  const { model, precision, optimizer, scheduler, accumulation } = parts;
  const distill = parts.distill;
  const stage = distill?.schedule.stageAt(step);
  return scope(async () => {
    const termSums = new Map<string, Tensor>();
    let lossSum: Tensor | undefined;
    let auxSum: Tensor | undefined;
    let tokens = 0;
    for (let m = 0; m < accumulation; m++) {
      const batch = await loader.next();
      if (!batch) throw new Error('trainStep: the training loader ran out of batches');
      const shape = [batch.rows, batch.contextLength];
      const x = fromArray(batch.inputs, shape, { device, dtype: 'i32' });
      const y = fromArray(batch.targets, shape, { device, dtype: 'i32' });
      let loss: Tensor;
      if (distill && stage) {
        const r = distillationLoss(model, distill.teacher, { ids: x, targets: y }, stage, {
          pairs: distill.pairs,
          projections: distill.projections,
          heads: distill.heads,
          relationHeads: distill.relationHeads,
        });
        loss = r.loss;
        for (const [name, value] of Object.entries(r.terms))
          termSums.set(name, accumulate(termSums.get(name), value));
      } else loss = model.loss(x, y);
      const aux = parts.moe ? moeAuxLoss(model) : null;
      const objective = aux ? add(loss, aux) : loss;
      precision.backward(mul(objective, 1 / accumulation));
      lossSum = accumulate(lossSum, loss);
      if (aux) auxSum = accumulate(auxSum, aux);
      tokens += batch.rows * batch.contextLength;
    }
    const lr = optimizer.paramGroups[0]!.lr;
    const names = precision.masters.named().map(([name]) => name);
    let measured: { names: string[]; norms: Tensor; total: Tensor } | undefined;
    const r = await precision.step((tensors) => {
      const withGrad = tensors.flatMap((t, i) => (t.grad ? [[names[i]!, t.grad] as const] : []));
      const { norms, total } = normsOf(withGrad.map(([, g]) => g));
      measured = { names: withGrad.map(([n]) => n), norms, total };
      if (clipNorm !== null) return { gradNorm: clipGradNorm(tensors, clipNorm) };
    });
    scheduler.step();
    if (parts.moe) updateRoutingBias(model);
    const perStep = (t: Tensor) => reshape(mul(t, 1 / accumulation), [1]);
    const packed = noGrad(() =>
      concat([
        perStep(lossSum!),
        ...(auxSum ? [perStep(auxSum)] : []),
        ...[...termSums.values()].map(perStep),
        ...(measured ? [reshape(measured.total, [1]), measured.norms] : []),
      ]),
    );
    const values = await packed.toArray();
    let k = 0;
    const loss = values[k++]!;
    const auxLoss = auxSum ? values[k++]! : null;
    const terms: Record<string, number> = {};
    for (const name of termSums.keys()) terms[name] = values[k++]!;
    let gradNorm: number | null = null;
    let layerGradNorms: number[] | null = null;
    if (measured) {
      gradNorm = values[k++]!;
      const sq = new Map<number, number>();
      measured.names.forEach((name, i) => {
        const layer = layerOf(name);
        if (layer >= 0) sq.set(layer, (sq.get(layer) ?? 0) + values[k + i]! ** 2);
      });
      layerGradNorms = Array.from({ length: model.config.numLayers }, (_, i) =>
        Math.sqrt(sq.get(i) ?? 0),
      );
    }
    return {
      loss,
      auxLoss,
      lr,
      gradNorm,
      layerGradNorms,
      tokens,
      lossScale: r.lossScale,
      skipped: r.skipped,
      skippedSteps: precision.metrics().skippedSteps,
      ...(stage ? { distill: { stage: stage.kind, stageIndex: stage.index, terms } } : {}),
    };
  });
}
