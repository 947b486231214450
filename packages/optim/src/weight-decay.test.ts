import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TOLERANCE,
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '@fathom/tensor-core/testing';
import { AdamW, GradNormWeightDecay, clipGradNorm } from './index.js';
import { adamwReference, normReference, param, setGrad } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

describe('GradNormWeightDecay', () => {
  it('uses 0.01, and 0.001 while the global grad norm exceeds 5; no-decay groups stay at 0', async () => {
    const rand = rng(31);
    const init = [uniformValues(rand, 16), uniformValues(rand, 4)];
    // Norms alternate around the threshold: scale 0.1 → small, scale 10 → large.
    const scales = [0.1, 10, 10, 0.1, 10];
    const grads = scales.map((s) => init.map((v) => uniformValues(rand, v.length, -s, s)));
    for (const device of [d.ref, d.gpu]) {
      const w = param(device, init[0]!, [4, 4]);
      const b = param(device, init[1]!, [4]);
      const rule = new GradNormWeightDecay();
      const opt = new AdamW(
        [
          ['layers.0.weight', w],
          ['layers.0.bias', b],
        ],
        { lr: 0.05, weightDecay: 0.01, hooks: [rule] },
      );
      const seen: number[][] = [];
      for (const g of grads) {
        setGrad(w, g[0]!);
        setGrad(b, g[1]!);
        await opt.step();
        seen.push(opt.paramGroups.map((grp) => grp.weightDecay));
        expectClose([rule.lastNorm!], [normReference(g, 2)], { atol: 1e-5, rtol: 1e-5 }, 'norm');
      }
      const want = grads.map((g) => [normReference(g, 2) > 5 ? 0.001 : 0.01, 0]);
      expect(seen).toEqual(want);
      expect(want.map((x) => x[0])).toEqual([0.01, 0.001, 0.001, 0.01, 0.001]);
      // Each update used that step's decay.
      const reference = adamwReference(
        init[0]!,
        grads.map((g) => g[0]!),
        {
          lr: 0.05,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay: 0,
          amsgrad: false,
          maximize: false,
        },
        { weightDecay: want.map((x) => x[0]!) },
      );
      expectClose(
        await w.toArray(),
        reference,
        device === d.ref ? { atol: 1e-12, rtol: 1e-12 } : TOLERANCE.f32,
        'w',
      );
      opt.dispose();
      w.dispose();
      b.dispose();
    }
  });

  it('reads the norm handed to step() instead of computing one', async () => {
    const w = param(d.gpu, [0, 0, 0], [3]);
    const rule = new GradNormWeightDecay({ base: 0.02, reduced: 0.002, threshold: 1 });
    const opt = new AdamW([w], { hooks: [rule] });
    setGrad(w, [3, 4, 0]);
    const norm = clipGradNorm([w], 100);
    await opt.step({ gradNorm: norm });
    expect(rule.lastNorm).toBeCloseTo(5, 5);
    expect(opt.paramGroups[0]!.weightDecay).toBe(0.002);
    norm.dispose();
    opt.dispose();
    w.dispose();
  });

  it('drives only the groups appliesTo selects', async () => {
    const a = param(d.ref, [1, 1], [2]);
    const b = param(d.ref, [1, 1], [2]);
    const rule = new GradNormWeightDecay({ appliesTo: (g) => g.name === 'head' });
    const opt = new AdamW(
      [
        { params: [a], name: 'head', weightDecay: 0.5 },
        { params: [b], name: 'body', weightDecay: 0.5 },
      ],
      { hooks: [rule] },
    );
    setGrad(a, [30, 40]);
    setGrad(b, [0, 0]);
    await opt.step();
    expect(rule.lastNorm).toBe(50);
    expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([0.001, 0.5]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });
});
