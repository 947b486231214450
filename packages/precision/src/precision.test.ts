import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CausalLm } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import { type Device, type Tensor, fromArray, scope } from '@fathom/tensor-core';
import { openTestDevices, type TestDevices } from '@fathom/tensor-core/testing';
import { createPrecision, type PrecisionConfig } from './precision.js';
import { TINY, patternBatch, tinyModel } from './test-support/tiny-lm.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const STEPS = 25;

interface Run {
  losses: number[];
  skipped: number;
  dtypes: Set<string>;
}

async function train(device: Device, config: PrecisionConfig, steps = STEPS): Promise<Run> {
  const model = tinyModel(device);
  const precision = createPrecision(
    config,
    model,
    (p) => new AdamW(p, { lr: 1e-2, weightDecay: 0 }),
  );
  const losses: number[] = [];
  const dtypes = new Set(model.parameters().map((p) => p.dtype));
  let skipped: number;
  try {
    for (let s = 0; s < steps; s++) {
      losses.push(
        await scope(async () => {
          const [ids, targets] = patternBatch(device, 4, 16, TINY.vocabSize, s);
          const loss = model.loss(ids, targets);
          precision.backward(loss);
          const value = await loss.item();
          await precision.step();
          return value;
        }),
      );
    }
    skipped = precision.metrics().skippedSteps;
  } finally {
    precision.dispose();
    model.dispose();
  }
  return { losses, skipped, dtypes };
}

async function snapshot(model: CausalLm): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [name, p] of model.namedParameters()) out.set(name, Array.from(await p.toArray()));
  return out;
}

describe('training a tiny CausalLm in reduced precision on WebGPU', () => {
  it('bf16 and f16 (master weights, loss scaling) follow the f32 loss curve', async () => {
    const { losses: ref } = await train(d.gpu, {});
    const bf16 = await train(d.gpu, { compute: 'bf16' });
    const f16 = await train(d.gpu, { compute: 'f16' });
    expect(ref[STEPS - 1]!).toBeLessThan(ref[0]! * 0.2);
    expect([...bf16.dtypes]).toEqual(['bf16']);
    expect([...f16.dtypes]).toEqual(['f16']);
    expect(bf16.skipped).toBe(0);
    expect(f16.skipped).toBe(0);
    // Stated tolerance: |Δloss| ≤ atol + rtol·loss_f32 at every step (measured worst: bf16 0.025 at
    // loss 1.59, f16 0.002).
    const tol = { bf16: [0.02, 0.03], f16: [0.005, 0.005] } as const;
    for (const [name, run] of [
      ['bf16', bf16],
      ['f16', f16],
    ] as const) {
      const [atol, rtol] = tol[name];
      run.losses.forEach((l, s) => {
        expect(Math.abs(l - ref[s]!), `${name} step ${s}: ${l} vs f32 ${ref[s]}`).toBeLessThan(
          atol + rtol * ref[s]!,
        );
      });
    }
  });
});

describe('Precision steps', () => {
  it('an injected inf in a gradient skips the step without touching weights or optimizer state', async () => {
    const model = tinyModel(d.gpu);
    const precision = createPrecision(
      { compute: 'f16', lossScaling: { hysteresis: 1, initScale: 1024 } },
      model,
      (p) => new AdamW(p, { lr: 1e-2 }),
    );
    const step = (inject: boolean) =>
      scope(async () => {
        const [ids, targets] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, 1);
        precision.backward(model.loss(ids, targets));
        if (inject) {
          const victim = precision.trainableTensors()[3]!;
          const g = Array.from(await victim.grad!.toArray());
          g[g.length >> 1] = Infinity;
          victim.setGrad(fromArray(g, victim.shape, { device: d.gpu }));
        }
        return precision.step();
      });
    try {
      expect((await step(false)).skipped).toBe(false);
      const weights = await snapshot(model);
      const masters = await Promise.all(precision.trainableTensors().map((t) => t.toArray()));
      const adamSteps = precision.optimizer.stepCount;
      const result = await step(true);
      expect(result).toEqual({
        skipped: true,
        overflowTensors: 1,
        lossScale: 1024,
        nextLossScale: 512,
      });
      expect(await snapshot(model)).toEqual(weights);
      const after = await Promise.all(precision.trainableTensors().map((t) => t.toArray()));
      after.forEach((m, i) => expect(Array.from(m)).toEqual(Array.from(masters[i]!)));
      expect(precision.optimizer.stepCount).toBe(adamSteps);
      expect(precision.metrics()).toMatchObject({
        skippedSteps: 1,
        lastStepSkipped: true,
        lossScale: 512,
      });
      expect(precision.trainableTensors().every((t) => t.grad === null)).toBe(true);
      const next = await step(false);
      expect(next.skipped).toBe(false);
      expect(next.lossScale).toBe(512);
      expect(precision.optimizer.stepCount).toBe(adamSteps + 1);
    } finally {
      precision.dispose();
      model.dispose();
    }
  });

  it('leaks nothing across steps (bf16 with stochastic rounding, f16 with a scaler)', async () => {
    for (const config of [
      { compute: 'bf16', rounding: 'stochastic' },
      { compute: 'f16' },
    ] as PrecisionConfig[]) {
      const model = tinyModel(d.gpu);
      const precision = createPrecision(config, model, (p) => new AdamW(p, { lr: 1e-3 }));
      const step = () =>
        scope(async () => {
          const [ids, targets] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, 2);
          // Two micro-batches: gradients accumulate in the f32 masters.
          for (let m = 0; m < 2; m++) precision.backward(model.loss(ids, targets));
          await precision.step();
        });
      await step();
      const before = d.gpu.memory();
      for (let i = 0; i < 3; i++) await step();
      const after = d.gpu.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
      precision.dispose();
      model.dispose();
    }
  });

  it('resumes exactly from a state dict (masters, scaler, stochastic-rounding stream)', async () => {
    const config: PrecisionConfig = {
      compute: 'bf16',
      rounding: 'stochastic',
      seed: 3,
      lossScaling: { growthInterval: 2 },
    };
    const make = () => {
      const model = tinyModel(d.gpu);
      const precision = createPrecision(config, model, (p) => new AdamW(p, { lr: 1e-2 }));
      return { model, precision };
    };
    const run = (m: ReturnType<typeof make>, s: number) =>
      scope(async () => {
        const [ids, targets] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, s);
        const loss = m.model.loss(ids, targets);
        m.precision.backward(loss);
        const v = await loss.item();
        await m.precision.step();
        return v;
      });
    const a = make();
    for (let s = 0; s < 3; s++) await run(a, s);
    const b = make();
    // What a checkpoint holds: model weights, optimizer state, precision state.
    await scope(async () => {
      b.model.loadStateDict(a.model.stateDict());
      const opt = a.precision.optimizer.stateDict();
      await b.precision.optimizer.loadStateDict(opt);
      const st = a.precision.stateDict();
      b.precision.loadStateDict({ tensors: st.tensors, meta: JSON.parse(JSON.stringify(st.meta)) });
      for (const t of [...Object.values(opt.tensors), ...Object.values(st.tensors)]) t.dispose();
    });
    expect(b.precision.metrics()).toEqual(a.precision.metrics());
    const la: number[] = [];
    const lb: number[] = [];
    for (let s = 3; s < 6; s++) {
      la.push(await run(a, s));
      lb.push(await run(b, s));
    }
    expect(lb).toEqual(la);
    expect(await snapshot(b.model)).toEqual(await snapshot(a.model));
    for (const m of [a, b]) {
      m.precision.dispose();
      m.model.dispose();
    }
  });
});

describe('PrecisionPolicy on a model', () => {
  it('per-layer: layer 0 stays f32, layer 1 and the rest run and store bf16; activations follow', async () => {
    const model = tinyModel(d.gpu);
    const precision = createPrecision(
      { compute: 'bf16', overrides: [{ layers: [0, 0], compute: 'f32', params: 'f32' }] },
      model,
      (p) => new AdamW(p, { lr: 1e-3 }),
    );
    try {
      for (const [name, p] of model.namedParameters()) {
        const want = name.startsWith('model.layers.0.') ? 'f32' : 'bf16';
        expect(p.dtype, name).toBe(want);
      }
      // Masters only where the parameter is 16-bit; f32 parameters are updated directly.
      for (const e of precision.masters.entries)
        expect(e.owned, e.name).toBe(e.param.dtype !== 'f32');
      await scope(async () => {
        const [ids] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, 0);
        const hidden: string[] = [];
        const logits = model.forward(ids, {
          hooks: { hiddenState: (_i, h) => hidden.push(h.dtype) },
        });
        // Embedding output (bf16), after layer 0 (f32), after layer 1 (bf16); logits f32 for the loss.
        expect(hidden).toEqual(['bf16', 'f32', 'bf16']);
        expect(logits.dtype).toBe('f32');
        const x = fromArray(new Float32Array(2 * 32).fill(0.5), [1, 2, 32], { device: d.gpu });
        const q1 = model.getSubmodule('model.layers.1.self_attn.q_proj') as unknown as {
          forward(x: Tensor): Tensor;
        };
        const q0 = model.getSubmodule('model.layers.0.self_attn.q_proj') as unknown as {
          forward(x: Tensor): Tensor;
        };
        expect(q1.forward(x).dtype).toBe('bf16');
        expect(q0.forward(x).dtype).toBe('f32');
        const norm = model.getSubmodule('model.layers.1.input_layernorm') as unknown as {
          forward(x: Tensor): Tensor;
        };
        expect(norm.forward(q1.forward(x)).dtype).toBe('f32'); // norms run in f32
      });
    } finally {
      precision.dispose();
      model.dispose();
    }
  });

  it('f32 parameters with bf16 compute: weights are cast on the fly and gradients come back f32', async () => {
    const model = tinyModel(d.gpu);
    const precision = createPrecision(
      { compute: 'bf16', params: 'f32' },
      model,
      (p) => new AdamW(p, { lr: 1e-3 }),
    );
    try {
      expect(precision.masters.entries.every((e) => !e.owned)).toBe(true);
      await scope(async () => {
        const [ids, targets] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, 0);
        const hidden: string[] = [];
        model.forward(ids, { hooks: { hiddenState: (_i, h) => hidden.push(h.dtype) } });
        expect(hidden).toEqual(['bf16', 'bf16', 'bf16']);
        model.loss(ids, targets).backward();
        for (const [name, p] of model.namedParameters()) {
          expect(p.dtype, name).toBe('f32');
          expect(p.grad?.dtype, name).toBe('f32');
        }
        precision.masters.zeroGrad();
      });
    } finally {
      precision.dispose();
      model.dispose();
    }
  });

  it('without a Precision, bf16 parameters get bf16 gradients (the parameter dtype)', async () => {
    const model = tinyModel(d.gpu);
    const { applyPolicy } = await import('./autocast.js');
    const applied = applyPolicy(model, {
      compute: 'bf16',
      overrides: [{ modules: 'lm_head', params: 'f32', compute: 'f32' }],
    });
    try {
      await scope(async () => {
        const [ids, targets] = patternBatch(d.gpu, 2, 8, TINY.vocabSize, 0);
        model.loss(ids, targets).backward();
        for (const [name, p] of model.namedParameters()) {
          expect(p.grad?.dtype, name).toBe(name === 'lm_head.weight' ? 'f32' : 'bf16');
          p.setGrad(null);
        }
      });
    } finally {
      applied.remove();
      model.dispose();
    }
  });

  it('tied embeddings stay tied when converted', async () => {
    const model = tinyModel(d.gpu, { ...TINY, tieWordEmbeddings: true });
    const applied = (await import('./autocast.js')).applyPolicy(model, { compute: 'bf16' });
    try {
      expect(model.lmHead.weight).toBe(model.model.embed.weight);
      expect(model.lmHead.weight.dtype).toBe('bf16');
      expect(model.lmHead.weight.isDisposed).toBe(false);
    } finally {
      applied.remove();
      model.dispose();
    }
  });

  it('rejects bad configs and conflicting assignments, naming the field', () => {
    const model = tinyModel(d.gpu);
    const make = (c: unknown) => () =>
      createPrecision(c as PrecisionConfig, model, (p) => new AdamW(p));
    expect(make({ compute: 'fp16' })).toThrow(
      /PrecisionPolicy: compute is fp16; expected 'f32', 'f16' or 'bf16'/,
    );
    expect(make({ overrides: [{ layers: [3, 1], compute: 'f32' }] })).toThrow(
      /overrides\[0\].layers is \[3,1\]/,
    );
    expect(make({ overrides: [{ compute: 'f32' }] })).toThrow(
      /overrides\[0\] has neither 'modules' nor 'layers'/,
    );
    expect(
      make({ overrides: [{ layers: [0, 1], compute: 'f32' }], layerPrefix: 'blocks' }),
    ).toThrow(/layerPrefix/);
    expect(make({ compute: 'bf16', masterWeights: false })).toThrow(
      /config.masterWeights is false, but '.*' is stored as bf16/,
    );
    expect(make({ compute: 'f16', rounding: 'stochastic' })).toThrow(
      /config.rounding 'stochastic' is for bf16 parameters; '.*' is stored as f16/,
    );
    expect(make({ lossScaling: 'yes' })).toThrow(/config.lossScaling is yes/);
    // Nothing was changed by the failed attempts.
    expect(model.parameters().every((p) => p.dtype === 'f32')).toBe(true);
    model.dispose();
  });
});
