/**
 * One optimizer step: forward and backward over `accumulation` micro-batches, gradient norms
 * (global and per layer, before clipping), clipping, the update and the schedule, with a
 * single readback of the loss and the norms at the end.
 */
import type { TokenWindowLoader } from '@fathom/data-pipeline';
import { normsOf, clipGradNorm } from '@fathom/optim';
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
  /** Mean loss over the micro-batches. */
  loss: number;
  /** The lr the update used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Per layer (`model.layers.<i>`), before clipping. */
  layerGradNorms: number[];
  /** Tokens consumed. */
  tokens: number;
}

/** Index of the decoder layer a parameter belongs to, or -1 (embeddings, final norm, head). */
export function layerOf(name: string): number {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Runs one optimizer step. */
export async function trainStep(
  parts: TrainingParts,
  loader: TokenWindowLoader,
  device: Device,
  clipNorm: number | null,
): Promise<StepResult> {
  const { model, optimizer, scheduler, accumulator } = parts;
  const named = model.namedParameters();
  return scope(async () => {
    let lossSum: Tensor | undefined;
    let tokens = 0;
    for (let m = 0; m < accumulator.microBatches; m++) {
      const batch = await loader.next();
      if (!batch) throw new Error('trainStep: the training loader ran out of batches');
      const shape = [batch.rows, batch.contextLength];
      const x = fromArray(batch.inputs, shape, { device, dtype: 'i32' });
      const y = fromArray(batch.targets, shape, { device, dtype: 'i32' });
      const loss = model.loss(x, y);
      accumulator.backward(loss);
      lossSum = noGrad(() => (lossSum ? add(lossSum, loss) : loss.detach()));
      tokens += batch.rows * batch.contextLength;
    }
    const withGrad = named.filter(([, p]) => p.grad !== null);
    const { norms, total } = normsOf(withGrad.map(([, p]) => p.grad!));
    if (clipNorm !== null) clipGradNorm(optimizer.params(), clipNorm).dispose();
    const lr = optimizer.paramGroups[0]!.lr;
    await accumulator.step(optimizer);
    scheduler.step();
    const packed = noGrad(() =>
      concat([
        reshape(mul(lossSum!, 1 / accumulator.microBatches), [1]),
        reshape(total, [1]),
        norms,
      ]),
    );
    const values = await packed.toArray();
    const sq = new Map<number, number>();
    withGrad.forEach(([name], i) => {
      const layer = layerOf(name);
      if (layer >= 0) sq.set(layer, (sq.get(layer) ?? 0) + values[i + 2]! ** 2);
    });
    const layerGradNorms = Array.from({ length: model.config.numLayers }, (_, i) =>
      Math.sqrt(sq.get(i) ?? 0),
    );
    return { loss: values[0]!, lr, gradNorm: values[1]!, layerGradNorms, tokens };
  });
}
