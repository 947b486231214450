import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromArray, scope } from '@fathom/tensor-core';
import { type TestDevices, expectClose, openTestDevices } from '@fathom/tensor-core/testing';
import {
  routerZLoss,
  routingProbabilities,
  seedsBalanceLoss,
  sequenceBalanceLoss,
  switchBalanceLoss,
} from './balance.js';
import { resolveMoeConfig } from './config.js';
import { moeForward } from './forward.js';
import { randomWeights, weightTensors } from './test-support/fixtures.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

// Fixed routing: 4 tokens over 3 experts, top-1 picks [0, 0, 1, 2], so counts = [2, 1, 1].
const PROBS = [
  [0.7, 0.2, 0.1],
  [0.6, 0.3, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.1, 0.8],
];
// By hand (see docs/moe.md for the formulas):
// seeds: f = [.5,.25,.25], μ = 1/3 → (1.5−1)² + (.75−1)² + (.75−1)² = 0.375
// switch: P = [.4,.275,.325] → 3·(.5·.4 + .25·.275 + .25·.325) = 1.05
// sequence (2 sequences of 2): f₀ = [3,0,0], P₀ = [.65,.25,.1] → 1.95;
//   f₁ = [0,1.5,1.5], P₁ = [.15,.3,.55] → 1.275; mean 1.6125
const SEEDS = 0.375;
const SWITCH = 1.05;
const SEQUENCE = 1.6125;

describe('balance losses on fixed routing', () => {
  for (const name of ['ref', 'gpu'] as const) {
    it(`match hand-computed values on ${name}`, async () => {
      const device = devs[name];
      await scope(async () => {
        const probs = fromArray(PROBS.flat(), [4, 3], { device, requiresGrad: true });
        const counts = fromArray([2, 1, 1], [3], { device, dtype: 'i32' });
        const seqCounts = fromArray([2, 0, 0, 0, 1, 1], [2, 3], { device });
        const tol = { atol: 1e-6, rtol: 1e-6 };
        expectClose([await seedsBalanceLoss(probs, counts, 1).item()], [SEEDS], tol, 'seeds');
        expectClose([await switchBalanceLoss(probs, counts, 1).item()], [SWITCH], tol, 'switch');
        expectClose(
          [await sequenceBalanceLoss(probs, seqCounts, 2, 1).item()],
          [SEQUENCE],
          tol,
          'sequence',
        );
        const logits = fromArray([0, 0, Math.log(3), 0], [2, 2], { device });
        // logsumexp rows: ln 2, ln 4 → mean(ln²2, 4·ln²2) = 2.5·ln²2
        expectClose([await routerZLoss(logits).item()], [2.5 * Math.log(2) ** 2], tol, 'z-loss');
      });
    });
  }

  it("seeds' loss passes the gradient straight through the mean probabilities", async () => {
    await scope(async () => {
      const probs = fromArray(PROBS.flat(), [4, 3], { device: devs.ref, requiresGrad: true });
      const counts = fromArray([2, 1, 1], [3], { device: devs.ref, dtype: 'i32' });
      seedsBalanceLoss(probs, counts, 1).backward();
      // ∂/∂probs[t,i] = 2(fᵢ/μ − 1)·k/(μ·N) = [0.75, −0.375, −0.375] for every token.
      const row = [0.75, -0.375, -0.375];
      expectClose(await probs.grad!.toArray(), [...row, ...row, ...row, ...row], {
        atol: 1e-12,
        rtol: 1e-12,
      });
    });
  });

  it('sigmoid scores are renormalised per token before balancing', async () => {
    await scope(async () => {
      const s = fromArray([0.5, 0.25, 0.25, 0.9, 0.05, 0.05], [2, 3], { device: devs.ref });
      const p = routingProbabilities(s, 'sigmoid');
      expectClose(await p.toArray(), [0.5, 0.25, 0.25, 0.9, 0.05, 0.05], { atol: 1e-12, rtol: 0 });
      const s2 = fromArray([1, 1, 2, 1, 2, 1], [2, 3], { device: devs.ref });
      expectClose(
        await routingProbabilities(s2, 'sigmoid').toArray(),
        [0.25, 0.25, 0.5, 0.25, 0.5, 0.25],
        {
          atol: 1e-12,
          rtol: 0,
        },
      );
    });
  });

  it('a layer computes every loss and their weighted sum from its own routing', async () => {
    const weights = { seeds: 0.01, switch: 0.1, zLoss: 0.001, sequence: 0.5 };
    const c = resolveMoeConfig({
      numExperts: 3,
      topK: 1,
      expertIntermediateSize: 2,
      balance: weights,
    });
    // One-hot tokens and gate = log-probabilities plus a per-token shift: softmax gives PROBS,
    // logsumexp gives the shift, so the z-loss is mean([1, 2, 0, −1]²) = 1.5.
    const shift = [1, 2, 0, -1];
    const w = randomWeights(c, 4, 1);
    w.gate = [0, 1, 2].map((e) => PROBS.map((p, t) => Math.log(p[e]!) + shift[t]!));
    const x = [0, 1, 2, 3].map((t) => [0, 1, 2, 3].map((j) => (j === t ? 1 : 0)));
    for (const device of [devs.ref, devs.gpu]) {
      await scope(async () => {
        const r = moeForward(
          fromArray(x.flat(), [2, 2, 4], { device }),
          weightTensors(w, device),
          c,
        );
        expect(Array.from(await r.experts.toArray())).toEqual([0, 0, 1, 2]);
        const tol = { atol: 1e-5, rtol: 1e-5 };
        expectClose([await r.losses.seeds!.item()], [SEEDS], tol, 'seeds');
        expectClose([await r.losses.switch!.item()], [SWITCH], tol, 'switch');
        expectClose([await r.losses.zLoss!.item()], [1.5], tol, 'z');
        expectClose([await r.losses.sequence!.item()], [SEQUENCE], tol, 'sequence');
        const total =
          weights.seeds * SEEDS +
          weights.switch * SWITCH +
          weights.zLoss * 1.5 +
          weights.sequence * SEQUENCE;
        expectClose([await r.auxLoss!.item()], [total], tol, 'aux');
        r.disposeRouting();
      });
    }
  });
});
