import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, fromArray, noGrad, scope } from '@fathom/tensor-core';
import { CausalLm, type CausalLmConfig } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import { FakeQuantLinear, convertQat, prepareQat } from './qat.js';
import { QuantLinear } from './quant-linear.js';
import { quantizeModel } from './quantize-model.js';
import type { QuantScheme } from './scheme.js';

const TEXT =
  'the quick brown fox jumps over the lazy dog. a stitch in time saves nine. ' +
  'all that glitters is not gold. the early bird catches the worm. ' +
  'look before you leap. actions speak louder than words. ';
const ALPHABET = [...new Set(TEXT)].sort();
const SCHEME: QuantScheme = { kind: 'int4', groupSize: 128 };
const CONFIG: CausalLmConfig = {
  vocabSize: ALPHABET.length,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  maxPositionEmbeddings: 24,
  seed: 5,
};
const [ROWS, LEN] = [8, 16];

function batch(step: number): { ids: number[]; targets: number[] } {
  const ids: number[] = [];
  const targets: number[] = [];
  for (let r = 0; r < ROWS; r++) {
    const start = (step * 29 + r * 53) % (TEXT.length - LEN - 1);
    for (let i = 0; i < LEN; i++) {
      ids.push(ALPHABET.indexOf(TEXT[start + i]!));
      targets.push(ALPHABET.indexOf(TEXT[start + i + 1]!));
    }
  }
  return { ids, targets };
}

let device: Device;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  device = await Device.open({ backend: 'cpu' });
});
afterAll(() => device.close());

async function train(model: CausalLm, steps: number, lr: number, offset: number): Promise<void> {
  model.train();
  const opt = new AdamW(
    model.namedParameters().filter(([, p]) => p.requiresGrad),
    { lr, weightDecay: 0 },
  );
  for (let s = 0; s < steps; s++)
    await scope(async () => {
      const { ids, targets } = batch(offset + s);
      const loss = model.loss(
        fromArray(ids, [ROWS, LEN], { device, dtype: 'i32' }),
        fromArray(targets, [ROWS, LEN], { device, dtype: 'i32' }),
      );
      loss.backward();
      await opt.step();
      opt.zeroGrad();
    });
  model.eval();
}

/** Mean loss over a fixed set of batches. */
async function evalLoss(model: CausalLm): Promise<number> {
  let total = 0;
  for (let b = 0; b < 4; b++) {
    const { ids, targets } = batch(1000 + b * 7);
    total += await scope(async () =>
      noGrad(() =>
        model.loss(
          fromArray(ids, [ROWS, LEN], { device, dtype: 'i32' }),
          fromArray(targets, [ROWS, LEN], { device, dtype: 'i32' }),
        ),
      ).item(),
    );
  }
  return total / 4;
}

function copyOf(model: CausalLm): CausalLm {
  const c = new CausalLm(CONFIG, { device });
  c.loadStateDict(model.stateDict());
  return c;
}

describe('quantisation-aware training', () => {
  it('recovers at least half of the int4 loss increase over post-training quantisation', async () => {
    const pretrained = new CausalLm(CONFIG, { device });
    await train(pretrained, 80, 1e-2, 0);

    // Both branches fine-tune the same steps from the same start, so QAT gets no extra training.
    const float = copyOf(pretrained);
    await train(float, 30, 5e-4, 500);
    const floatLoss = await evalLoss(float);
    await quantizeModel(float, { scheme: SCHEME, includeLmHead: true });
    const ptqLoss = await evalLoss(float);

    const qat = copyOf(pretrained);
    const prepared = prepareQat(qat, { scheme: SCHEME, includeLmHead: true });
    expect(prepared).toHaveLength(15);
    expect(qat.getSubmodule('model.layers.1.mlp.down_proj')).toBeInstanceOf(FakeQuantLinear);
    await train(qat, 30, 5e-4, 500);
    const fakeLoss = await evalLoss(qat);
    const report = await convertQat(qat);
    expect(report.layers).toEqual(prepared);
    expect(qat.getSubmodule('model.layers.1.mlp.down_proj')).toBeInstanceOf(QuantLinear);
    const qatLoss = await evalLoss(qat);

    const increase = ptqLoss - floatLoss;
    // int4 must actually hurt for the comparison to mean anything.
    expect(increase).toBeGreaterThan(0.005);
    // The converted model computes what training saw.
    expect(Math.abs(qatLoss - fakeLoss)).toBeLessThan(0.01);
    expect(qatLoss - floatLoss).toBeLessThanOrEqual(increase / 2);
    for (const m of [pretrained, float, qat]) m.dispose();
  });
});
