/** A tiny LLaMA-style model and a learnable token pattern shared by the training tests and the bench. */
import { CausalLm, type CausalLmConfig } from '@fathom/nn-layers';
import { type Device, type Tensor, fromArray } from '@fathom/tensor-core';

/** nn-layers' CausalLm at its smallest useful size. */
export const TINY: CausalLmConfig = {
  vocabSize: 64,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositionEmbeddings: 32,
  seed: 5,
};

/** A fresh model on `device`. */
export function tinyModel(device: Device, config: CausalLmConfig = TINY): CausalLm {
  return new CausalLm(config, { device });
}

/** Batches of sequences following t[i+1] = (5·t[i] + 3) mod vocab, from varied starts: ids and next-token targets. */
export function patternBatch(
  device: Device,
  batch: number,
  time: number,
  vocab: number,
  seed: number,
): [Tensor, Tensor] {
  const ids = new Int32Array(batch * time);
  const targets = new Int32Array(batch * time);
  for (let b = 0; b < batch; b++) {
    let t = (seed * 17 + b * 29) % vocab;
    for (let i = 0; i < time; i++) {
      ids[b * time + i] = t;
      t = (5 * t + 3) % vocab;
      targets[b * time + i] = t;
    }
  }
  return [
    fromArray(ids, [batch, time], { device, dtype: 'i32' }),
    fromArray(targets, [batch, time], { device, dtype: 'i32' }),
  ];
}
