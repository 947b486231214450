import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '@fathom/tensor-core';
import {
  TOLERANCE,
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '@fathom/tensor-core/testing';
import { Sgd, type SgdOptions } from './index.js';
import { param, setGrad, sgdReference, type SgdRef } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const STEPS = 20;

const CONFIGS: { name: string; options: SgdOptions }[] = [
  { name: 'plain', options: { lr: 0.1 } },
  { name: 'momentum 0.9', options: { lr: 0.05, momentum: 0.9 } },
  {
    name: 'momentum with dampening and weight decay',
    options: { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 1e-2 },
  },
  {
    name: 'nesterov with weight decay',
    options: { lr: 0.02, momentum: 0.9, nesterov: true, weightDecay: 0.1 },
  },
  {
    name: 'maximize with momentum and weight decay',
    options: { lr: 0.01, momentum: 0.5, weightDecay: 0.05, maximize: true },
  },
];

function refOf(o: SgdOptions): SgdRef {
  return {
    lr: o.lr ?? 1e-3,
    momentum: o.momentum ?? 0,
    dampening: o.dampening ?? 0,
    weightDecay: o.weightDecay ?? 0,
    nesterov: o.nesterov ?? false,
    maximize: o.maximize ?? false,
  };
}

async function run(
  device: Device,
  options: SgdOptions,
  init: Float64Array,
  grads: Float64Array[],
): Promise<Float32Array | Float64Array> {
  const p = param(device, init, [4, 6]);
  const opt = new Sgd([p], options);
  for (const g of grads) {
    setGrad(p, g);
    await opt.step();
  }
  const out = (await p.toArray()) as Float32Array | Float64Array;
  opt.dispose();
  p.dispose();
  return out;
}

describe('Sgd matches a float64 implementation of the published update over 20 steps', () => {
  for (const [i, { name, options }] of CONFIGS.entries()) {
    it(name, async () => {
      const rand = rng(200 + i);
      const init = uniformValues(rand, 24);
      const grads = Array.from({ length: STEPS }, () => uniformValues(rand, 24, -2, 2));
      const want = sgdReference(init, grads, refOf(options));
      expectClose(
        await run(d.ref, options, init, grads),
        want,
        { atol: 1e-12, rtol: 1e-12 },
        'float64',
      );
      expectClose(await run(d.gpu, options, init, grads), want, TOLERANCE.f32, 'webgpu');
      expectClose(await run(d.cpu, options, init, grads), want, TOLERANCE.f32, 'cpu f32');
    });
  }

  it('keeps a momentum buffer only when momentum is set', async () => {
    const p = param(d.ref, [1, 2], [2]);
    for (const [momentum, names] of [
      [0, []],
      [0.9, ['momentum_buffer']],
    ] as const) {
      const opt = new Sgd([p], { momentum });
      setGrad(p, [1, 1]);
      await opt.step();
      expect([...opt.stateOf(p)!.tensors.keys()]).toEqual(names);
      opt.dispose();
    }
    p.dispose();
  });
});

describe('Sgd errors', () => {
  it('refuses Nesterov without momentum or with dampening, as PyTorch does', () => {
    const p = param(d.ref, [1], [1]);
    expect(() => new Sgd([p], { nesterov: true })).toThrow(
      'Sgd: options nesterov needs momentum > 0 and dampening 0; got momentum 0, dampening 0',
    );
    expect(() => new Sgd([p], { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(
      'dampening 0.1',
    );
    expect(() => new Sgd([p], { momentum: -1 })).toThrow(
      'Sgd: options momentum is -1; expected a finite number >= 0',
    );
    p.dispose();
  });
});
