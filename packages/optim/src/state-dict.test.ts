import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, type Tensor, scope } from '@fathom/tensor-core';
import { openTestDevices, rng, uniformValues, type TestDevices } from '@fathom/tensor-core/testing';
import {
  AdamW,
  LrScheduler,
  Sgd,
  warmupCosine,
  type HyperParams,
  type Optimizer,
  type OptimizerStateInput,
} from './index.js';
import { param, setGrad } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const NAMES = ['embed.weight', 'layers.0.mlp.weight', 'layers.0.mlp.bias', 'norm.weight'];
const SIZES = [12, 20, 5, 5];
const TOTAL = 20;
const SPLIT = 9;

type Make = (named: [string, Tensor][]) => Optimizer<HyperParams>;

const MAKERS: [string, Make][] = [
  [
    'AdamW (amsgrad, two groups)',
    (n) => new AdamW(n, { lr: 3e-3, amsgrad: true, weightDecay: 0.1 }),
  ],
  ['AdamW (defaults)', (n) => new AdamW(n, { lr: 1e-2 })],
  [
    'Sgd (nesterov)',
    (n) => new Sgd(n, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  ],
];

/** Gradients of step t for parameter k: a fixed function of (t, k), absent now and then. */
function gradAt(t: number, k: number): Float64Array | null {
  if (k === 3 && t % 4 === 2) return null;
  return uniformValues(rng(1000 * t + k), SIZES[k]!, -1, 1);
}

interface Run {
  named: [string, Tensor][];
  opt: Optimizer<HyperParams>;
  sched: LrScheduler;
}

function start(device: Device, make: Make, values?: ArrayLike<number>[]): Run {
  const named = NAMES.map(
    (n, k) =>
      [n, param(device, values?.[k] ?? uniformValues(rng(k), SIZES[k]!), [SIZES[k]!])] as [
        string,
        Tensor,
      ],
  );
  const opt = make(named);
  const sched = new LrScheduler(
    opt,
    warmupCosine({ warmupSteps: 3, totalSteps: TOTAL, floorRatio: 0.1 }),
  );
  return { named, opt, sched };
}

async function steps(run: Run, from: number, to: number): Promise<void> {
  for (let t = from; t < to; t++) {
    run.named.forEach(([, p], k) => {
      const g = gradAt(t, k);
      if (g) setGrad(p, g);
    });
    await run.opt.step();
    run.opt.zeroGrad();
    run.sched.step();
  }
}

async function finish(run: Run): Promise<Float32Array[]> {
  const out = await Promise.all(
    run.named.map(async ([, p]) => (await p.toArray()) as Float32Array),
  );
  run.opt.dispose();
  run.named.forEach(([, p]) => p.dispose());
  return out;
}

describe('state dicts resume training bit-for-bit', () => {
  for (const device of ['gpu', 'ref'] as const) {
    for (const [name, make] of MAKERS) {
      it(`${name} on ${device}`, async () => {
        const dev = d[device];
        const straight = start(dev, make);
        await steps(straight, 0, TOTAL);
        const want = await finish(straight);

        const first = start(dev, make);
        await steps(first, 0, SPLIT);
        // What a checkpoint writer would store: host arrays and JSON text.
        const saved = await scope(async () => {
          const sd = first.opt.stateDict();
          const tensors: Record<string, Float32Array | Float64Array> = {};
          for (const [k, t] of Object.entries(sd.tensors))
            tensors[k] = (await t.toArray()) as Float32Array;
          return {
            tensors,
            meta: JSON.stringify(sd.meta),
            sched: JSON.stringify(first.sched.stateDict()),
          };
        });
        const params = await finish(first);

        const second = start(dev, make, params);
        const input: OptimizerStateInput = { tensors: saved.tensors, meta: JSON.parse(saved.meta) };
        await second.opt.loadStateDict(input);
        second.sched.loadStateDict(JSON.parse(saved.sched));
        expect(second.opt.stepCount).toBe(SPLIT);
        await steps(second, SPLIT, TOTAL);
        const got = await finish(second);
        got.forEach((g, k) => expect(Array.from(g), NAMES[k]).toEqual(Array.from(want[k]!)));
      });
    }
  }

  it('exports keys per parameter and state, steps per parameter, and hyper-parameters', async () => {
    const run = start(d.ref, MAKERS[0]![1]);
    await steps(run, 0, 3);
    const sd = run.opt.stateDict();
    expect(Object.keys(sd.tensors).sort()).toEqual(
      NAMES.flatMap((n) =>
        ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'].map((s) => `state.${n}.${s}`),
      ).sort(),
    );
    expect(sd.meta.state['norm.weight']).toEqual({ step: 2 });
    expect(sd.meta.state['embed.weight']).toEqual({ step: 3 });
    expect(sd.meta.groups.map((g) => [g.name, g.params, g.hyper.weightDecay])).toEqual([
      ['decay', ['embed.weight', 'layers.0.mlp.weight'], 0.1],
      ['no_decay', ['layers.0.mlp.bias', 'norm.weight'], 0],
    ]);
    expect(JSON.parse(JSON.stringify(sd.meta))).toEqual(sd.meta);
    // The tensors are copies: stepping on does not change them.
    const before = Array.from(await sd.tensors['state.embed.weight.exp_avg']!.toArray());
    await steps(run, 3, 4);
    expect(Array.from(await sd.tensors['state.embed.weight.exp_avg']!.toArray())).toEqual(before);
    for (const t of Object.values(sd.tensors)) t.dispose();
    await finish(run);
  });

  it('loads tensors from another device', async () => {
    const onGpu = start(d.gpu, MAKERS[1]![1]);
    await steps(onGpu, 0, 2);
    const sd = onGpu.opt.stateDict();
    const onRef = start(d.ref, MAKERS[1]![1]);
    await onRef.opt.loadStateDict(sd);
    const a = await scope(() =>
      onRef.opt.stateDict().tensors['state.embed.weight.exp_avg']!.toArray(),
    );
    expect(Array.from(a)).toEqual(
      Array.from(await sd.tensors['state.embed.weight.exp_avg']!.toArray()),
    );
    for (const t of Object.values(sd.tensors)) t.dispose();
    await finish(onGpu);
    await finish(onRef);
  });

  it('refuses a mismatched state dict and leaves the optimizer unchanged', async () => {
    const run = start(d.ref, MAKERS[1]![1]);
    await steps(run, 0, 2);
    const sd = run.opt.stateDict();
    const sgd = start(d.ref, MAKERS[2]![1]);
    await expect(sgd.opt.loadStateDict(sd)).rejects.toThrow(
      'Sgd.loadStateDict: the state dict is from AdamW; expected Sgd',
    );
    const { ['state.norm.weight.exp_avg_sq']: _dropped, ...partial } = sd.tensors;
    await expect(run.opt.loadStateDict({ tensors: partial, meta: sd.meta })).rejects.toThrow(
      "AdamW.loadStateDict: tensors['state.norm.weight.exp_avg_sq'] is missing",
    );
    const wrong = { ...sd.tensors, ['state.embed.weight.exp_avg']: new Float32Array(3) };
    await expect(run.opt.loadStateDict({ tensors: wrong, meta: sd.meta })).rejects.toThrow(
      "tensors['state.embed.weight.exp_avg'] has 3 values; parameter of shape [12] needs 12",
    );
    expect(run.opt.stepCount).toBe(2);
    for (const t of Object.values(sd.tensors)) t.dispose();
    await finish(run);
    await finish(sgd);
  });
});
