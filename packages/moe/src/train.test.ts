import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, add, fromArray, scope } from '@fathom/tensor-core';
import { CausalLm } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import {
  moeAuxLoss,
  moeLayers,
  moeStatistics,
  replaceMlpsWithMoe,
  updateRoutingBias,
} from './index.js';
import { MoeLayer } from './moe-layer.js';

let device: Device;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  device = await Device.open({ backend: 'webgpu' });
});
afterAll(() => device.close());

// A small character-level corpus in the register of the Brown corpus' news genre.
const TEXT =
  'The Fulton County Grand Jury said Friday an investigation of recent primary elections ' +
  'produced no evidence that any irregularities took place. The jury further said in term end ' +
  'presentments that the City Executive Committee, which had over-all charge of the election, ' +
  'deserves the praise and thanks of the City of Atlanta for the manner in which it was conducted.';
const ALPHABET = [...new Set(TEXT)].sort();

function batch(step: number, rows: number, length: number): { ids: number[]; targets: number[] } {
  const ids: number[] = [];
  const targets: number[] = [];
  for (let r = 0; r < rows; r++) {
    const start = (step * 37 + r * 61) % (TEXT.length - length - 1);
    for (let i = 0; i < length; i++) {
      ids.push(ALPHABET.indexOf(TEXT[start + i]!));
      targets.push(ALPHABET.indexOf(TEXT[start + i + 1]!));
    }
  }
  return { ids, targets };
}

describe('an MoE language model', () => {
  it('trains on WebGPU: loss falls, balance losses and bias updates run, nothing leaks', async () => {
    const baseline = device.memory();
    const model = new CausalLm(
      {
        vocabSize: ALPHABET.length,
        hiddenSize: 32,
        intermediateSize: 64,
        numLayers: 2,
        numHeads: 2,
        maxPositionEmbeddings: 32,
        seed: 3,
      },
      { device },
    );
    const replaced = replaceMlpsWithMoe(
      model,
      {
        numExperts: 4,
        topK: 2,
        expertIntermediateSize: 16,
        numSharedExperts: 1,
        scoring: 'sigmoid',
        capacityFactor: 1.25,
        balance: { switch: 0.01, zLoss: 0.001, sequence: 0.001 },
        biasUpdateRate: 0.001,
      },
      [1],
    );
    expect([...replaced.keys()]).toEqual([1]);
    expect(model.getSubmodule('model.layers.1.mlp')).toBeInstanceOf(MoeLayer);
    const names = [...model.stateDict().keys()];
    for (const n of [
      'model.layers.1.mlp.gate.weight',
      'model.layers.1.mlp.gate.e_score_correction_bias',
      'model.layers.1.mlp.experts.3.down_proj.weight',
      'model.layers.1.mlp.shared_experts.gate_proj.weight',
      'model.layers.0.mlp.gate_proj.weight',
    ])
      expect(names).toContain(n);
    expect(
      model.stateDict().get('model.layers.1.mlp.shared_experts.up_proj.weight')!.shape,
    ).toEqual([16, 32]);
    const optimizer = new AdamW(
      model.namedParameters().filter(([, p]) => p.requiresGrad),
      { lr: 1e-2 },
    );
    const losses: number[] = [];
    const memory: number[] = [];
    for (let step = 0; step < 8; step++) {
      const { ids, targets } = batch(step % 4, 4, 16);
      const loss = await scope(async () => {
        const idsT = fromArray(ids, [4, 16], { device, dtype: 'i32' });
        const targetsT = fromArray(targets, [4, 16], { device, dtype: 'i32' });
        const lm = model.loss(idsT, targetsT);
        const aux = moeAuxLoss(model);
        expect(aux).not.toBeNull();
        const total = add(lm, aux!);
        total.backward();
        await optimizer.step();
        optimizer.zeroGrad();
        updateRoutingBias(model);
        return lm.item();
      });
      const stats = await moeStatistics(model);
      expect(stats).toHaveLength(1);
      expect(stats[0]!.name).toBe('model.layers.1.mlp');
      expect(stats[0]!.tokens).toBe(64);
      expect(stats[0]!.tokensPerExpert.reduce((a, b) => a + b, 0)).toBe(128);
      losses.push(loss);
      const m = device.memory();
      memory.push(m.liveTensors * 1e9 + m.liveBytes);
    }
    const firstTwo = (losses[0]! + losses[1]!) / 2;
    const lastTwo = (losses[6]! + losses[7]!) / 2;
    expect(lastTwo, losses.join(', ')).toBeLessThan(firstTwo - 0.1);
    // After the first step (which creates the optimizer state) every step leaves memory as it found it.
    expect(new Set(memory.slice(1)).size, memory.join(', ')).toBe(1);
    const bias = await moeLayers(model)[0]![1].gate.bias!.toArray();
    expect(Array.from(bias).some((b) => b !== 0)).toBe(true);
    console.log(`MoE LM losses: ${losses.map((l) => l.toFixed(3)).join(', ')}`);
    optimizer.dispose();
    model.dispose();
    expect(device.memory().liveTensors).toBe(baseline.liveTensors);
    expect(device.memory().liveBytes).toBe(baseline.liveBytes);
  });
});
