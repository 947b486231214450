import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, fromArray, noGrad, scope } from '@fathom/tensor-core';
import { type TestDevices, expectClose, openTestDevices, rng } from '@fathom/tensor-core/testing';
import { Module } from '@fathom/nn-layers';
import { moeStatistics, updateRoutingBias } from './index.js';
import { MoeLayer } from './moe-layer.js';
import { randomMatrix } from './test-support/fixtures.js';
import { referenceSelect } from './test-support/reference.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

/** A model holding one MoE layer, as a CausalLm would. */
class Holder extends Module {
  constructor(readonly moe: MoeLayer) {
    super();
    this.registerModule('mlp', moe);
  }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function cv(counts: readonly number[]): number {
  const m = counts.reduce((a, b) => a + b, 0) / counts.length;
  const v = counts.reduce((a, b) => a + (b - m) ** 2, 0) / counts.length;
  return Math.sqrt(v) / m;
}

describe('auxiliary-loss-free bias balancing', () => {
  for (const name of ['gpu', 'cpu'] as const) {
    it(`brings a skewed router's load CV below 0.1 without changing combine weights (${name})`, async () => {
      const device = devs[name];
      const e = 8;
      const k = 2;
      const hidden = 16;
      const tokens = 512;
      const layer = new MoeLayer(
        {
          numExperts: e,
          topK: k,
          expertIntermediateSize: 4,
          scoring: 'sigmoid',
          biasUpdateRate: 0.002,
        },
        { hiddenSize: hidden, device },
      );
      const model = new Holder(layer);
      // Skew: feature 0 is always 1 and the gate favours low-index experts through it.
      const rand = rng(17);
      const x = randomMatrix(rand, tokens, hidden, 1).map((row) => [1, ...row.slice(1)]);
      const gate = randomMatrix(rand, e, hidden, 0.3).map((row, j) => [
        1.5 - (3 * j) / e,
        ...row.slice(1),
      ]);
      layer.loadStateDict(
        new Map([['gate.weight', fromArray(gate.flat(), [e, hidden], { device })]]),
        { strict: false },
      );
      const xt = fromArray(x.flat(), [tokens, hidden], { device });
      const logits = x.map((row) => gate.map((g) => g.reduce((s, v, i) => s + v * row[i]!, 0)));
      const config = layer.config;

      const step = async (): Promise<number[]> => {
        await scope(() => noGrad(() => layer.forward(xt)));
        const [stats] = await moeStatistics(model);
        updateRoutingBias(model);
        return stats!.tokensPerExpert;
      };
      const first = await step();
      expect(cv(first)).toBeGreaterThan(0.5);
      let updates = 1;
      let load = first;
      while (cv(load) >= 0.1 && updates < 400) {
        load = await step();
        updates++;
      }
      expect(cv(load), `CV after ${updates} updates`).toBeLessThan(0.1);
      console.log(
        `${name}: load CV ${cv(first).toFixed(2)} → ${cv(load).toFixed(3)} after ${updates} bias updates`,
      );

      // Selection uses the bias; combine weights and outputs use the unbiased scores.
      const bias = Array.from(await layer.gate.bias!.toArray());
      expect(bias.some((b) => b !== 0)).toBe(true);
      const expected = logits.map((l) => {
        const scores = l.map(sigmoid);
        const chosen = referenceSelect(
          scores.map((s, j) => s + bias[j]!),
          config,
        );
        const z = chosen.reduce((a, j) => a + scores[j]!, 0) + 1e-20;
        return { chosen, weights: chosen.map((j) => scores[j]! / z) };
      });
      const { moeForward } = await import('./forward.js');
      await scope(async () => {
        const w = (path: string): Tensor => layer.stateDict().get(path)!;
        const { stack } = await import('@fathom/tensor-core');
        const stacked = (p: string): Tensor =>
          stack(Array.from({ length: e }, (_, j) => w(`experts.${j}.${p}.weight`)));
        const r = noGrad(() =>
          moeForward(
            xt,
            {
              gate: w('gate.weight'),
              bias: w('gate.e_score_correction_bias'),
              expertGate: stacked('gate_proj'),
              expertUp: stacked('up_proj'),
              expertDown: stacked('down_proj'),
              shared: null,
            },
            config,
          ),
        );
        expect(Array.from(await r.experts.toArray())).toEqual(expected.flatMap((t) => t.chosen));
        expectClose(
          await r.weights.toArray(),
          expected.flatMap((t) => t.weights),
          { atol: 2e-6, rtol: 1e-5 },
          'combine weights',
        );
        r.disposeRouting();
      });
      model.dispose();
      xt.dispose();
    });
  }

  it('statistics match counts computed from the routing, and clear after each read', async () => {
    const device = devs.gpu;
    const layer = new MoeLayer(
      { numExperts: 4, topK: 2, expertIntermediateSize: 4, capacityFactor: 0.75 },
      { hiddenSize: 8, device },
    );
    const model = new Holder(layer);
    const x = randomMatrix(rng(4), 40, 8, 2);
    const xt = fromArray(x.flat(), [40, 8], { device });
    const gate = Array.from((await layer.gate.weight.toArray()) as Float32Array);
    const chosen = x.map((row) => {
      const l = [0, 1, 2, 3].map((j) => row.reduce((s, v, i) => s + v * gate[j * 8 + i]!, 0));
      const m = Math.max(...l);
      const z = l.reduce((a, v) => a + Math.exp(v - m), 0);
      return referenceSelect(
        l.map((v) => Math.exp(v - m) / z),
        layer.config,
      );
    });
    const counts = [0, 1, 2, 3].map((j) => chosen.flat().filter((c) => c === j).length);
    const cap = Math.ceil((0.75 * 40 * 2) / 4);
    const dropped = counts.reduce((a, c) => a + Math.max(0, c - cap), 0);
    for (let i = 0; i < 2; i++) await scope(() => noGrad(() => layer.forward(xt)));
    const [s] = await moeStatistics(model);
    expect(s!.name).toBe('mlp');
    expect(s!.tokensPerExpert).toEqual(counts.map((c) => 2 * c));
    expect(s!.tokens).toBe(80);
    expectClose(
      s!.activationFrequency,
      counts.map((c) => c / 40),
      { atol: 1e-6, rtol: 1e-6 },
    );
    expectClose([s!.loadCv], [cv(counts)], { atol: 1e-6, rtol: 1e-5 });
    const total = counts.reduce((a, b) => a + b, 0);
    expectClose([s!.normalizedLoadStd], [(cv(counts) * (total / 4)) / total], {
      atol: 1e-6,
      rtol: 1e-5,
    });
    expectClose([s!.droppedFraction], [dropped / 80], { atol: 1e-7, rtol: 1e-6 });
    const [again] = await moeStatistics(model);
    expect(again!.tokens).toBe(0);
    model.dispose();
    xt.dispose();
  });
});
