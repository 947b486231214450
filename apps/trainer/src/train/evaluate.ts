/** Validation: mean cross-entropy over the first batches of the validation shards, in eval mode. */
import { TokenWindowLoader } from '@fathom/data-pipeline';
import type { CausalLm } from '@fathom/nn-layers';
import { type Device, type Tensor, add, fromArray, noGrad, scope } from '@fathom/tensor-core';

/** What {@link evaluate} measured. */
export interface EvalResult {
  /** Mean cross-entropy, nats per token. */
  loss: number;
  perplexity: number;
  /** Tokens scored. */
  tokens: number;
}

/**
 * Scores the model on up to `batches` batches of the validation shards (in order, no shuffle)
 * with dropout and LayerDrop off and no gradients; one readback. Draws no random numbers, so
 * it never disturbs training's generators.
 */
export async function evaluate(
  model: CausalLm,
  device: Device,
  shards: readonly string[],
  options: { contextLength: number; batchSize: number; batches: number },
): Promise<EvalResult> {
  const loader = await TokenWindowLoader.open(shards, {
    contextLength: options.contextLength,
    batchSize: options.batchSize,
    shuffle: false,
    epochs: 1,
    prefetch: 1,
  });
  const wasTraining = model.training;
  model.eval();
  try {
    let count = 0;
    const sum = await scope(async () => {
      let total: Tensor | undefined;
      for (let b = 0; b < options.batches; b++) {
        const batch = await loader.next();
        if (!batch) break;
        const shape = [batch.rows, batch.contextLength];
        total = noGrad(() => {
          const x = fromArray(batch.inputs, shape, { device, dtype: 'i32' });
          const y = fromArray(batch.targets, shape, { device, dtype: 'i32' });
          const loss = model.loss(x, y);
          return total ? add(total, loss) : loss;
        });
        count++;
      }
      return total ? await total.item() : NaN;
    });
    if (count === 0)
      throw new Error(
        `evaluate: the validation shards hold no window of contextLength + 1 = ${options.contextLength + 1} tokens in a batch of ${options.batchSize}`,
      );
    const loss = sum / count;
    return {
      loss,
      perplexity: Math.exp(loss),
      tokens: count * options.batchSize * options.contextLength,
    };
  } finally {
    model.train(wasTraining);
    await loader.close();
  }
}
