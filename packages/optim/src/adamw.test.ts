import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Device, Tensor, WebGpuBackend } from '@fathom/tensor-core';
import {
  TOLERANCE,
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '@fathom/tensor-core/testing';
import { AdamW, type AdamWOptions } from './index.js';
import { adamwReference, param, setGrad, type AdamWRef } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const STEPS = 20;
const SHAPES = [[3, 5], [7], [2, 2, 4]];

const CONFIGS: { name: string; options: AdamWOptions }[] = [
  { name: 'defaults with lr 1e-2', options: { lr: 1e-2 } },
  {
    name: 'amsgrad, betas (0.8, 0.99), eps 1e-6, weight decay 0.1',
    options: { lr: 3e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1, amsgrad: true },
  },
  { name: 'maximize, no weight decay', options: { lr: 5e-3, weightDecay: 0, maximize: true } },
  { name: 'beta1 0.3 (lerp weight above one half)', options: { lr: 1e-2, betas: [0.3, 0.9] } },
];

function refOf(o: AdamWOptions): AdamWRef {
  return {
    lr: o.lr ?? 1e-3,
    beta1: o.betas?.[0] ?? 0.9,
    beta2: o.betas?.[1] ?? 0.999,
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? 1e-2,
    amsgrad: o.amsgrad ?? false,
    maximize: o.maximize ?? false,
  };
}

/** Initial values and a gradient per step for each shape (some gradients absent). */
function problem(seed: number): { init: Float64Array[]; grads: (Float64Array | null)[][] } {
  const rand = rng(seed);
  const init = SHAPES.map((s) =>
    uniformValues(
      rand,
      s.reduce((a, b) => a * b, 1),
      -1,
      1,
    ),
  );
  const grads = SHAPES.map((s, k) =>
    Array.from({ length: STEPS }, (_, t) =>
      // The last tensor has no gradient every third step: its own step count lags.
      k === 2 && t % 3 === 1
        ? null
        : uniformValues(
            rand,
            s.reduce((a, b) => a * b, 1),
            -2,
            2,
          ),
    ),
  );
  return { init, grads };
}

async function run(device: Device, options: AdamWOptions, seed: number): Promise<number[][]> {
  const { init, grads } = problem(seed);
  const params = init.map((v, k) => param(device, v, SHAPES[k]!));
  const opt = new AdamW(params, options);
  for (let t = 0; t < STEPS; t++) {
    params.forEach((p, k) => {
      const g = grads[k]![t];
      if (g) setGrad(p, g);
    });
    await opt.step();
    opt.zeroGrad();
  }
  const out = await Promise.all(params.map(async (p) => Array.from(await p.toArray())));
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

describe('AdamW matches a float64 implementation of the published update over 20 steps', () => {
  for (const [i, { name, options }] of CONFIGS.entries()) {
    it(name, async () => {
      const { init, grads } = problem(100 + i);
      const want = init.map((v, k) => adamwReference(v, grads[k]!, refOf(options)));
      const onRef = await run(d.ref, options, 100 + i);
      const onGpu = await run(d.gpu, options, 100 + i);
      const onCpu = await run(d.cpu, options, 100 + i);
      want.forEach((w, k) => {
        expectClose(onRef[k]!, w, { atol: 1e-12, rtol: 1e-12 }, `float64 reference, tensor ${k}`);
        expectClose(onGpu[k]!, w, TOLERANCE.f32, `webgpu, tensor ${k}`);
        expectClose(onCpu[k]!, w, TOLERANCE.f32, `cpu f32, tensor ${k}`);
      });
    });
  }

  it('per-group hyper-parameters and the no-decay rule for named parameters', async () => {
    const rand = rng(5);
    const names = ['layers.0.mlp.weight', 'layers.0.mlp.bias', 'layers.0.input_layernorm.weight'];
    const init = names.map(() => uniformValues(rand, 6, -1, 1));
    const grads = Array.from({ length: STEPS }, () => names.map(() => uniformValues(rand, 6)));
    for (const device of [d.ref, d.gpu]) {
      const params = init.map((v) => param(device, v, [2, 3]));
      const opt = new AdamW(
        names.map((n, i) => [n, params[i]!] as const),
        { lr: 1e-2, weightDecay: 0.5 },
      );
      expect(opt.paramGroups.map((g) => [g.name, g.paramNames, g.weightDecay])).toEqual([
        ['decay', ['layers.0.mlp.weight'], 0.5],
        ['no_decay', ['layers.0.mlp.bias', 'layers.0.input_layernorm.weight'], 0],
      ]);
      for (const g of grads) {
        params.forEach((p, k) => setGrad(p, g[k]!));
        await opt.step();
      }
      const tol = device === d.ref ? { atol: 1e-12, rtol: 1e-12 } : TOLERANCE.f32;
      for (const [k, p] of params.entries()) {
        const want = adamwReference(
          init[k]!,
          grads.map((g) => g[k]!),
          refOf({ lr: 1e-2, weightDecay: k === 0 ? 0.5 : 0 }),
        );
        expectClose(await p.toArray(), want, tol, `${device.kind} ${names[k]}`);
      }
      opt.dispose();
      params.forEach((p) => p.dispose());
    }
  });

  it('follows lr changes between steps', async () => {
    const rand = rng(9);
    const init = uniformValues(rand, 10);
    const grads = Array.from({ length: 6 }, () => uniformValues(rand, 10));
    const lrs = [1e-2, 5e-3, 2e-2, 0, 1e-3, 7e-3];
    const p = param(d.gpu, init, [10]);
    const opt = new AdamW([p], { lr: 1 });
    for (const [t, g] of grads.entries()) {
      opt.paramGroups[0]!.lr = lrs[t]!;
      setGrad(p, g);
      await opt.step();
    }
    const want = adamwReference(init, grads, refOf({ lr: 1 }), { lr: lrs });
    expectClose(await p.toArray(), want, TOLERANCE.f32, 'params');
    opt.dispose();
    p.dispose();
  });
});

describe('AdamW (properties from Kingma & Ba)', () => {
  it('moves each weight by lr·|g|/(|g| + eps) on its first step without weight decay', async () => {
    const g = [0.5, -3, 1e-3, 0, 2e-9];
    for (const device of [d.ref, d.gpu]) {
      const p = param(device, [0, 0, 0, 0, 0], [5]);
      const opt = new AdamW([p], { lr: 0.1, weightDecay: 0, eps: 1e-8 });
      setGrad(p, g);
      await opt.step();
      const want = g.map((x) => (-0.1 * x) / (Math.abs(x) + 1e-8));
      expectClose(await p.toArray(), want, { atol: 1e-7, rtol: 1e-6 }, device.kind);
      opt.dispose();
      p.dispose();
    }
  });
});

describe('AdamW runs one fused kernel with scalars as uniforms', () => {
  it('changing lr, betas or the step compiles no new pipeline', async () => {
    const backend = d.gpu.backend as WebGpuBackend;
    const p = param(d.gpu, uniformValues(rng(3), 64), [64]);
    const opt = new AdamW([p], { lr: 1e-3 });
    setGrad(p, uniformValues(rng(4), 64));
    await opt.step();
    const pipelines = backend.pipelineCount;
    for (const lr of [1e-2, 3e-4, 0.5]) {
      opt.paramGroups[0]!.lr = lr;
      opt.paramGroups[0]!.betas = [0.5, 0.9];
      await opt.step();
    }
    await p.toArray();
    expect(backend.pipelineCount).toBe(pipelines);
    opt.dispose();
    p.dispose();
  });

  it('encodes exactly one dispatch per parameter and allocates nothing (no op chain)', async () => {
    const backend = d.gpu.backend as WebGpuBackend;
    const params = [0, 1, 2].map((k) => param(d.gpu, uniformValues(rng(k), 8), [8]));
    const opt = new AdamW(params, { lr: 1e-3, amsgrad: true });
    params.forEach((p, k) => setGrad(p, uniformValues(rng(10 + k), 8)));
    await opt.step(); // creates state
    const allocations = d.gpu.memory().allocations;
    const spy = vi.spyOn(backend, 'dispatch');
    await opt.step();
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
    expect(d.gpu.memory().allocations).toBe(allocations);
    opt.dispose();
    params.forEach((p) => p.dispose());
  });
});

describe('AdamW errors', () => {
  it('names the argument, what it got and what it expected', () => {
    const p = param(d.ref, [1, 2], [2]);
    expect(() => new AdamW([p], { lr: -1 })).toThrow(
      'AdamW: options lr is -1; expected a finite number >= 0',
    );
    expect(() => new AdamW([p], { betas: [0.9, 1] })).toThrow(
      'AdamW: options betas[1] is 1; expected a finite number >= 0 and < 1',
    );
    expect(() => new AdamW([{ params: [p], eps: Number.NaN }])).toThrow(
      "AdamW: group 'group.0' eps is NaN",
    );
    expect(() => new AdamW([])).toThrow('AdamW: params is an empty array');
    expect(() => new AdamW([p, p])).toThrow("parameter 'param.1' is the same tensor as 'param.0'");
    const half = param(d.ref, [1, 2], [2]).cast('bf16') as Tensor;
    expect(() => new AdamW([['w', half]])).toThrow(
      "AdamW: parameter 'w' has dtype bf16; expected f32",
    );
    half.dispose();
    p.dispose();
  });

  it('refuses a gradient of the wrong shape', async () => {
    const p = param(d.ref, [1, 2], [2]);
    const opt = new AdamW([['w', p]]);
    p.setGrad(param(d.ref, [1, 2, 3], [3]));
    await expect(opt.step()).rejects.toThrow(
      "AdamW.step: the gradient of 'w' has shape [3]; expected the parameter's [2]",
    );
    opt.dispose();
    p.dispose();
  });
});
