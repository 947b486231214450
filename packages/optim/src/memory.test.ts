import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Device,
  type Tensor,
  fromArray,
  mean,
  mul,
  scope,
  square,
  sub,
  sum,
  tanh,
} from '@fathom/tensor-core';
import { openTestDevices, rng, uniformValues, type TestDevices } from '@fathom/tensor-core/testing';
import {
  AdamW,
  GradNormWeightDecay,
  GradientAccumulator,
  LrScheduler,
  Sgd,
  clipGradAdaptive,
  clipGradNorm,
  gradNormReport,
  warmupCosine,
  type HyperParams,
  type Optimizer,
} from './index.js';
import { param } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

function model(device: Device): [string, Tensor][] {
  const rand = rng(3);
  return [
    ['layers.0.weight', param(device, uniformValues(rand, 32), [4, 8])],
    ['layers.0.bias', param(device, uniformValues(rand, 8), [8])],
    ['layers.1.weight', param(device, uniformValues(rand, 8), [8])],
  ];
}

async function trainingLoop(
  device: Device,
  make: (n: [string, Tensor][]) => Optimizer<HyperParams>,
): Promise<void> {
  const named = model(device);
  const [w1, b1, w2] = named.map(([, p]) => p) as [Tensor, Tensor, Tensor];
  const x = fromArray(uniformValues(rng(5), 16), [4, 4, 1], { device });
  const opt = make(named);
  const sched = new LrScheduler(opt, warmupCosine({ warmupSteps: 2, totalSteps: 20 }));
  const acc = new GradientAccumulator(2);
  const step = (): Promise<number> =>
    scope(async () => {
      let last = 0;
      for (let m = 0; m < 2; m++) {
        const h = tanh(sum(mul(x, w1), { axis: 1 }));
        const y = sum(mul(h.add(b1), w2), { axis: 1 });
        const loss = mean(square(sub(y, 0.5)));
        acc.backward(loss);
        last = await loss.item();
      }
      const norm = clipGradNorm(named, 1.0);
      clipGradAdaptive(named, 0.5);
      await gradNormReport(named);
      await acc.step(opt, { gradNorm: norm });
      sched.step();
      // State dicts taken inside a scope are freed with it.
      opt.stateDict();
      return last;
    });
  await step();
  const before = device.memory();
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) losses.push(await step());
  const after = device.memory();
  expect(after.liveTensors).toBe(before.liveTensors);
  expect(after.liveBytes).toBe(before.liveBytes);
  expect(after.liveStorages).toBe(before.liveStorages);
  expect(losses[4]).toBeLessThan(losses[0]!);
  opt.dispose();
  [x, w1, b1, w2].forEach((t) => t.dispose());
}

describe('a loop of steps leaves device memory unchanged', () => {
  for (const device of ['gpu', 'ref'] as const) {
    it(`AdamW with clipping, accumulation, a schedule and a decay hook (${device})`, () =>
      trainingLoop(
        d[device],
        (n) => new AdamW(n, { lr: 0.05, amsgrad: true, hooks: [new GradNormWeightDecay()] }),
      ));
    it(`Sgd with momentum (${device})`, () =>
      trainingLoop(
        d[device],
        (n) => new Sgd(n, { lr: 0.05, momentum: 0.5, hooks: [new GradNormWeightDecay()] }),
      ));
  }

  it('optimizer.dispose() frees all state', async () => {
    const dev = d.gpu;
    const start = dev.memory();
    const named = model(dev);
    const opt = new AdamW(named);
    await scope(async () => {
      for (const [, p] of named) sum(square(p)).backward();
      await opt.step();
      opt.zeroGrad();
    });
    expect(dev.memory().liveTensors - start.liveTensors).toBe(3 + 3 * 2);
    opt.dispose();
    named.forEach(([, p]) => p.dispose());
    expect(dev.memory().liveTensors).toBe(start.liveTensors);
    expect(dev.memory().liveBytes).toBe(start.liveBytes);
  });
});
