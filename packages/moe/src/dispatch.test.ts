import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, fromArray, scope } from '@fathom/tensor-core';
import {
  type TestDevices,
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
} from '@fathom/tensor-core/testing';
import { type MoeConfigInput, resolveMoeConfig } from './config.js';
import { moeForward } from './forward.js';
import { randomMatrix, randomWeights, weightTensors } from './test-support/fixtures.js';
import { referenceMoe } from './test-support/reference.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const HIDDEN = 8;
const cases: [string, MoeConfigInput, number][] = [
  ['top-1 softmax', { numExperts: 4, topK: 1, expertIntermediateSize: 6 }, 24],
  ['top-2 softmax, normalised', { numExperts: 4, topK: 2, expertIntermediateSize: 6 }, 24],
  [
    'top-3 sigmoid with 2 shared experts and scaling',
    {
      numExperts: 6,
      topK: 3,
      expertIntermediateSize: 4,
      numSharedExperts: 2,
      scoring: 'sigmoid',
      routedScalingFactor: 2.5,
    },
    20,
  ],
  [
    'top-2 with capacity factor 0.5 (drops)',
    { numExperts: 4, topK: 2, expertIntermediateSize: 6, capacityFactor: 0.5, numSharedExperts: 1 },
    32,
  ],
  [
    'top-1 with capacity factor 1.0',
    { numExperts: 4, topK: 1, expertIntermediateSize: 6, capacityFactor: 1 },
    40,
  ],
  [
    'group-limited top-2 (4 groups, 2 kept, top2sum)',
    {
      numExperts: 8,
      topK: 2,
      expertIntermediateSize: 4,
      groups: 4,
      topkGroups: 2,
      groupScore: 'top2sum',
      scoring: 'sigmoid',
    },
    24,
  ],
  [
    'group-limited top-3 (4 groups, 1 kept, max) unnormalised',
    {
      numExperts: 8,
      topK: 2,
      expertIntermediateSize: 4,
      groups: 4,
      topkGroups: 1,
      normTopkProb: false,
    },
    24,
  ],
];

describe('MoE forward against a direct per-token reference', () => {
  for (const [name, input, tokens] of cases) {
    it(`${name}: reference backend (float64) and WebGPU`, async () => {
      const c = resolveMoeConfig(input);
      const w = randomWeights(c, HIDDEN, 11, 2);
      const x = randomMatrix(rng(5), tokens, HIDDEN, 1);
      const expected = referenceMoe(x, w, c);
      // The capacity cases must actually drop something for the test to mean anything.
      if (c.capacityFactor !== null && c.capacityFactor < 1)
        expect(expected.kept.flat().some((k) => !k)).toBe(true);
      for (const device of [devs.ref, devs.gpu]) {
        await scope(async () => {
          const wt = weightTensors(w, device);
          const xt = fromArray(x.flat(), [2, tokens / 2, HIDDEN], { device });
          const r = moeForward(xt, wt, c);
          const tol =
            device === devs.ref ? { atol: 1e-12, rtol: 1e-10 } : { atol: 2e-5, rtol: 2e-4 };
          expect(r.output.shape).toEqual([2, tokens / 2, HIDDEN]);
          expectClose(
            await r.output.toArray(),
            expected.out.flat(),
            tol,
            `${name} on ${device.name}`,
          );
          expect(Array.from(await r.experts.toArray())).toEqual(expected.chosen.flat());
          const slot = Array.from(await r.plan.slot.toArray());
          expect(slot.map((s) => s >= 0)).toEqual(expected.kept.flat());
          r.disposeRouting();
        });
      }
    });
  }

  it('keeps tokens in order when dropping: the first tokens of an overloaded expert win', async () => {
    const c = resolveMoeConfig({
      numExperts: 2,
      topK: 1,
      expertIntermediateSize: 2,
      capacityFactor: 1,
    });
    // Every token prefers expert 0: capacity ⌈1·6·1/2⌉ = 3, so tokens 3..5 are dropped.
    const w = randomWeights(c, 2, 3);
    w.gate = [
      [5, 0],
      [-5, 0],
    ];
    const x = Array.from({ length: 6 }, () => [1, 0.1]);
    for (const device of [devs.ref, devs.gpu]) {
      await scope(async () => {
        const r = moeForward(fromArray(x.flat(), [6, 2], { device }), weightTensors(w, device), c);
        expect(Array.from(await r.plan.slot.toArray()).map((s) => s >= 0)).toEqual([
          true,
          true,
          true,
          false,
          false,
          false,
        ]);
        const out = Array.from(await r.output.toArray());
        expect(out.slice(6)).toEqual([0, 0, 0, 0, 0, 0]);
        r.disposeRouting();
      });
    }
  });

  it('WebGPU gradients match the float64 reference (with capacity dropping and shared experts)', async () => {
    const c = resolveMoeConfig({
      numExperts: 6,
      topK: 2,
      expertIntermediateSize: 5,
      numSharedExperts: 1,
      capacityFactor: 0.8,
      balance: { switch: 0.1, zLoss: 0.01 },
    });
    const w = randomWeights(c, HIDDEN, 31, 2);
    const x = randomMatrix(rng(8), 36, HIDDEN, 1);
    const grads: number[][][] = [];
    for (const device of [devs.ref, devs.gpu]) {
      await scope(async () => {
        const wt = weightTensors(w, device, true);
        const xt = fromArray(x.flat(), [3, 12, HIDDEN], { device, requiresGrad: true });
        const r = moeForward(xt, wt, c);
        const proj = fromArray(
          Array.from({ length: 36 * HIDDEN }, (_, i) => Math.sin(i)),
          [3, 12, HIDDEN],
          { device },
        );
        r.output.mul(proj).sum().add(r.auxLoss!).backward();
        const leaves = [xt, wt.gate, wt.expertGate, wt.expertUp, wt.expertDown, wt.shared!.gate];
        grads.push(await Promise.all(leaves.map(async (t) => Array.from(await t.grad!.toArray()))));
        r.disposeRouting();
      });
    }
    grads[1]!.forEach((g, i) =>
      expectClose(g, grads[0]![i]!, { atol: 5e-5, rtol: 5e-4 }, `leaf ${i}`),
    );
  });

  it('gradients of the whole layer match finite differences (float64 reference)', async () => {
    for (const input of [
      { numExperts: 4, topK: 2, expertIntermediateSize: 3, numSharedExperts: 1 },
      {
        numExperts: 4,
        topK: 2,
        expertIntermediateSize: 3,
        capacityFactor: 0.75,
        scoring: 'sigmoid' as const,
        // Not the seeds' loss: its gradient is straight-through by design (balance.test.ts).
        balance: { switch: 0.3, zLoss: 0.2, sequence: 0.4 },
      },
    ]) {
      const c = resolveMoeConfig(input);
      const hidden = 4;
      const tokens = 6;
      const w = randomWeights(c, hidden, 21, 2);
      const x = randomMatrix(rng(9), tokens, hidden, 1);
      const wt = weightTensors(w, devs.ref);
      const leaves: { values: number[]; shape: number[] }[] = [
        { values: x.flat(), shape: [2, tokens / 2, hidden] },
        { values: w.gate.flat(), shape: [c.numExperts, hidden] },
        { values: w.expertGate.flat(2), shape: [...wt.expertGate.shape] },
        { values: w.expertUp.flat(2), shape: [...wt.expertUp.shape] },
        { values: w.expertDown.flat(2), shape: [...wt.expertDown.shape] },
      ];
      await gradCheck(
        devs.ref,
        (xv: Tensor, gate: Tensor, eg: Tensor, eu: Tensor, ed: Tensor) => {
          const r = moeForward(
            xv,
            { ...wt, gate, expertGate: eg, expertUp: eu, expertDown: ed },
            c,
          );
          const out = r.auxLoss ? r.output.add(r.auxLoss) : r.output;
          return out;
        },
        leaves,
        { atol: 1e-6, rtol: 1e-5 },
      );
    }
  });
});
