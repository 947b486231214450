import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CausalLm, layerDropDraw } from '@fathom/nn-layers';
import { type Device, noGrad, scope } from '@fathom/tensor-core';
import { expectClose } from '@fathom/tensor-core/testing';
import { captureForward } from './capture.js';
import { batchOf } from './test-support/corpus.js';
import { charModel } from './test-support/train.js';

let ref: Device;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  ref = await Device.open({ backend: 'cpu', float64: true });
});
afterAll(() => ref.close());

const SIZE = { hiddenSize: 16, intermediateSize: 32, numLayers: 3, numHeads: 2 };

describe('captureForward', () => {
  it('keeps the requested states, whose last one gives the logits; releases the rest', async () => {
    const model = new CausalLm(charModel(SIZE, 4), { device: ref }).eval();
    const baseline = ref.memory();
    await scope(async () => {
      const { ids } = batchOf(ref, 'train', 0, 2, 6);
      const direct = await model.forward(ids).toArray();
      // Without a graph, a capture leaves what a plain forward leaves plus the 3 requested tensors.
      let before = ref.memory().liveTensors;
      noGrad(() => model.forward(ids));
      const plain = ref.memory().liveTensors - before;
      before = ref.memory().liveTensors;
      const out = noGrad(() => captureForward(model, ids, { hidden: [0, 3], attention: [2] }));
      expect(ref.memory().liveTensors - before).toBe(plain + 3);
      expect([...out.hidden.keys()].sort()).toEqual([0, 3]);
      expect(out.attention.get(2)!.shape).toEqual([2, 2, 6, 6]);
      expectClose(await out.logits.toArray(), direct, { atol: 1e-12, rtol: 1e-12 }, 'logits');
      // Oracle: lm_head(norm(h_L)) recomputed from the captured last state.
      const again = model.lmHead.forward(model.model.norm.forward(out.hidden.get(3)!));
      expectClose(await again.toArray(), direct, { atol: 1e-12, rtol: 1e-12 }, 'from h_L');
      // Each attention row is a causal distribution.
      const probs = await out.attention.get(2)!.toArray();
      for (let row = 0; row < probs.length / 6; row++) {
        const q = row % 6;
        let total = 0;
        for (let j = 0; j < 6; j++) {
          if (j > q) expect(probs[row * 6 + j]).toBe(0);
          total += probs[row * 6 + j]!;
        }
        expect(total).toBeCloseTo(1, 12);
      }
    });
    expect(ref.memory().liveTensors).toBe(baseline.liveTensors);
    model.dispose();
  });

  it('gives separate handles when LayerDrop passes one tensor on for several layers', async () => {
    const model = new CausalLm({ ...charModel(SIZE, 4), layerDrop: 0.99 }, { device: ref }).train();
    // A step at which every layer is skipped (the draw seed is the model seed + 2).
    let step = 0;
    while ([0, 1, 2].some((i) => layerDropDraw(4 + 2, step, i) >= 0.99)) step++;
    model.layerDropStep = step;
    const baseline = ref.memory();
    await scope(async () => {
      const { ids } = batchOf(ref, 'train', 0, 1, 4);
      const out = captureForward(model, ids, { hidden: [0, 1, 2, 3] });
      const first = await out.hidden.get(0)!.toArray();
      for (const l of [1, 2, 3]) expect(await out.hidden.get(l)!.toArray()).toEqual(first);
      out.hidden.get(0)!.dispose();
      // The others survive their sibling's disposal.
      expect(await out.hidden.get(3)!.toArray()).toEqual(first);
    });
    expect(ref.memory().liveTensors).toBe(baseline.liveTensors);
    model.dispose();
  });
});
