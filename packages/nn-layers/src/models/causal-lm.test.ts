import {
  Device,
  Generator,
  type Tensor,
  add,
  div,
  executeInPlace,
  fromArray,
  mul,
  noGrad,
  sqrt,
  square,
  sub,
  sum,
  scope,
  zerosLike,
} from '@fathom/tensor-core';
import { expectClose } from '@fathom/tensor-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpointed } from '../training/checkpoint.js';
import { applyLora, mergeLora, twoStageTraining } from '../training/lora.js';
import { DecoderBlock } from '../layers/decoder-block.js';
import type { Module } from '../module.js';
import { CausalLm } from './causal-lm.js';
import { type CausalLmConfig, fromHfConfig, sharingGroups, toHfConfig } from './config.js';

let gpu: Device;
let ref: Device;
beforeAll(async () => {
  gpu = await Device.open({ backend: 'webgpu' });
  ref = await Device.open({ backend: 'cpu', float64: true });
});
afterAll(() => {
  gpu.close();
  ref.close();
});

const tiny: CausalLmConfig = {
  vocabSize: 32,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositionEmbeddings: 16,
  seed: 1,
};
const vals = async (t: Tensor): Promise<number[]> => Array.from(await t.toArray());
const ids = (device: Device, v: number[][]): Tensor =>
  fromArray(v.flat(), [v.length, v[0]!.length], { device, dtype: 'i32' });

/** Adam written here from its equations (no weight decay), updating in place. */
function adam(model: Module, lr: number): () => void {
  const params = model.parameters();
  const m = params.map((p) => zerosLike(p));
  const v = params.map((p) => zerosLike(p));
  let t = 0;
  return () => {
    t++;
    noGrad(() =>
      scope(() => {
        params.forEach((p, i) => {
          const g = p.grad!;
          const mi = add(mul(m[i]!, 0.9), mul(g, 0.1));
          const vi = add(mul(v[i]!, 0.999), mul(square(g), 0.001));
          const step = div(mul(mi, lr / (1 - 0.9 ** t)), add(sqrt(div(vi, 1 - 0.999 ** t)), 1e-8));
          executeInPlace('copy', [mi], [m[i]!], {});
          executeInPlace('copy', [vi], [v[i]!], {});
          executeInPlace('copy', [sub(p, step)], [p], {});
          p.setGrad(null);
        });
      }),
    );
  };
}

/** Plain SGD written here: p ← p − lr·g, in place. */
async function sgdStep(model: Module, lr: number): Promise<void> {
  const { executeInPlace } = await import('@fathom/tensor-core');
  noGrad(() => {
    for (const p of model.parameters()) {
      if (!p.grad) continue;
      const step = mul(p.grad, lr);
      const next = sub(p, step);
      executeInPlace('copy', [next], [p], {});
      for (const t of [step, next]) t.dispose();
      p.setGrad(null);
    }
  });
}

describe('CausalLm', () => {
  it("uses Hugging Face's LlamaForCausalLM parameter names and config fields", () => {
    const m = new CausalLm(tiny, { device: ref });
    const names = [...m.stateDict().keys()];
    expect(names).toEqual([
      'model.embed_tokens.weight',
      ...[0, 1].flatMap((i) => [
        `model.layers.${i}.input_layernorm.weight`,
        `model.layers.${i}.self_attn.q_proj.weight`,
        `model.layers.${i}.self_attn.k_proj.weight`,
        `model.layers.${i}.self_attn.v_proj.weight`,
        `model.layers.${i}.self_attn.o_proj.weight`,
        `model.layers.${i}.post_attention_layernorm.weight`,
        `model.layers.${i}.mlp.gate_proj.weight`,
        `model.layers.${i}.mlp.up_proj.weight`,
        `model.layers.${i}.mlp.down_proj.weight`,
      ]),
      'model.norm.weight',
      'lm_head.weight',
    ]);
    expect(m.stateDict().get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([8, 16]);
    const hf = toHfConfig(tiny);
    expect(hf).toMatchObject({
      model_type: 'llama',
      vocab_size: 32,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      hidden_act: 'silu',
    });
    expect(fromHfConfig(JSON.parse(JSON.stringify(hf)))).toMatchObject(tiny);
    m.dispose();
  });

  it('is deterministic under the seed, and the same seed gives the same weights on both backends', async () => {
    const a = new CausalLm(tiny, { device: gpu });
    const b = new CausalLm(tiny, { device: ref });
    const wa = await vals(a.stateDict().get('model.layers.1.mlp.up_proj.weight')!);
    const wb = await vals(b.stateDict().get('model.layers.1.mlp.up_proj.weight')!);
    expectClose(wa, wb, { atol: 1e-6, rtol: 1e-5 }, 'init');
    a.dispose();
    b.dispose();
  });

  it('rejects state dicts with wrong keys or shapes, naming them', () => {
    const m = new CausalLm(tiny, { device: ref });
    const sd = m.stateDict();
    const other = new CausalLm({ ...tiny, intermediateSize: 20 }, { device: ref });
    expect(() => m.loadStateDict(other.stateDict())).toThrow(
      "loadStateDict: 'model.layers.0.mlp.gate_proj.weight' has shape [20,16] in the state dict but [24,16] in the model",
    );
    const missing = new Map(sd);
    missing.delete('lm_head.weight');
    missing.set('extra.bias', sd.get('model.norm.weight')!);
    expect(() => m.loadStateDict(missing)).toThrow(
      'loadStateDict: missing keys: lm_head.weight; unexpected keys: extra.bias',
    );
    expect(m.loadStateDict(missing, { strict: false })).toEqual({
      missing: ['lm_head.weight'],
      unexpected: ['extra.bias'],
    });
    m.dispose();
    other.dispose();
  });

  it('a forward outside any scope frees every intermediate (only the logits stay)', () => {
    const m = new CausalLm(tiny, { device: ref });
    const x = ids(ref, [[1, 2, 3]]);
    const before = ref.memory();
    const logits = noGrad(() => m.forward(x));
    logits.dispose();
    expect(ref.memory().liveTensors).toBe(before.liveTensors);
    expect(ref.memory().liveBytes).toBe(before.liveBytes);
    m.dispose();
  });

  it('ties the LM head to the embedding when asked', () => {
    const m = new CausalLm({ ...tiny, tieWordEmbeddings: true }, { device: ref });
    const sd = m.stateDict();
    expect(sd.get('lm_head.weight')).toBe(sd.get('model.embed_tokens.weight'));
    expect(m.numParameters()).toBe(new CausalLm(tiny, { device: ref }).numParameters() - 32 * 16);
    m.dispose();
  });

  it('freezes and unfreezes by pattern, converts dtype, counts parameters', () => {
    const m = new CausalLm(tiny, { device: ref });
    const total = m.numParameters();
    expect(m.freeze('model.layers.*.self_attn.**')).toHaveLength(8);
    expect(m.numParameters({ trainableOnly: true })).toBe(total - 2 * (16 * 16 * 2 + 8 * 16 * 2));
    m.unfreeze();
    expect(m.numParameters({ trainableOnly: true })).toBe(total);
    m.to('bf16');
    expect(m.parameters().every((p) => p.dtype === 'bf16')).toBe(true);
    m.dispose();
  });

  it('shares layers: tied weights receive the sum of their uses’ gradients', async () => {
    const groups = sharingGroups(6, { shared: 2, groupSize: 2, independent: 2 });
    expect(groups).toEqual([0, 0, 1, 1, 2, 3]);
    const cfg = { ...tiny, numLayers: 3, layerGroups: [0, 0, 1] };
    const shared = new CausalLm(cfg, { device: ref });
    expect(shared.numParameters()).toBe(
      new CausalLm({ ...cfg, layerGroups: [0, 1], numLayers: 2 }, { device: ref }).numParameters(),
    );
    const x = ids(ref, [[1, 2, 3, 4]]);
    const y = ids(ref, [[2, 3, 4, 5]]);
    shared.loss(x, y).backward();
    const w = shared.stateDict().get('model.layers.0.mlp.up_proj.weight')!;
    const g = await vals(w.grad!);
    // The same gradient, assembled from each use separately with hooks-free reference math:
    // perturbing the shared weight changes the loss by the sum of both layers' sensitivities.
    const eps = 1e-6;
    const base = await vals(w);
    const { executeInPlace } = await import('@fathom/tensor-core');
    const at = async (d: number): Promise<number> => {
      const v = base.slice();
      v[5]! += d;
      noGrad(() => executeInPlace('copy', [fromArray(v, [...w.shape], { device: ref })], [w], {}));
      return noGrad(() => shared.loss(x, y)).item();
    };
    const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
    expect(g[5]).toBeCloseTo(numeric, 6);
    expect(shared.model.layers[0]).toBe(shared.model.layers[1]);
  });

  it('LayerDrop skips whole blocks deterministically in training and never in eval', async () => {
    const cfg = { ...tiny, numLayers: 4, layerDrop: 0.5 };
    const m = new CausalLm(cfg, { device: ref });
    const plain = new CausalLm({ ...cfg, layerDrop: 0 }, { device: ref });
    plain.loadStateDict(m.stateDict());
    const x = ids(ref, [[1, 2, 3]]);
    m.eval();
    plain.eval();
    expect(await vals(m.forward(x))).toEqual(await vals(plain.forward(x)));
    m.train();
    const runs: number[][] = [];
    for (let i = 0; i < 4; i++) runs.push(await vals(noGrad(() => m.forward(x))));
    // Same seed and step → same output; different steps draw different layers.
    const again = new CausalLm(cfg, { device: ref });
    again.loadStateDict(m.stateDict());
    expect(await vals(noGrad(() => again.forward(x)))).toEqual(runs[0]);
    expect(new Set(runs.map((r) => r.join(','))).size).toBeGreaterThan(1);
  });

  it('activation checkpointing gives identical gradients with lower peak memory', async () => {
    const blocks = (): DecoderBlock[] =>
      Array.from(
        { length: 6 },
        () =>
          new DecoderBlock({
            hiddenSize: 32,
            intermediateSize: 64,
            numHeads: 4,
            maxLength: 64,
            device: gpu,
            generator: new Generator(3),
          }),
      );
    const plain = blocks();
    const wrapped = blocks().map((b) => new Checkpointed(b));
    const x = fromArray(
      Array.from({ length: 2 * 64 * 32 }, (_, i) => Math.sin(i)),
      [2, 64, 32],
      { device: gpu, requiresGrad: true },
    );
    const run = async (
      layers: { forward(t: Tensor): Tensor }[],
    ): Promise<{ grads: number[][]; peak: number }> => {
      gpu.resetPeak();
      await scope(async () => {
        let h: Tensor = x;
        for (const l of layers) h = l.forward(h);
        sum(h).backward();
      });
      const peak = gpu.memory().peakBytes;
      const params = layers.flatMap((l) => (l as unknown as Module).parameters());
      const grads = [await vals(x.grad!), ...(await Promise.all(params.map((p) => vals(p.grad!))))];
      x.setGrad(null);
      return { grads, peak };
    };
    const a = await run(plain);
    const b = await run(wrapped);
    a.grads.forEach((g, i) => expectClose(b.grads[i]!, g, { atol: 1e-6, rtol: 1e-5 }, `grad ${i}`));
    expect(b.peak).toBeLessThan(a.peak * 0.7);
  });

  it('LoRA at rank 16 adds under 1 % to a default-sized model; merging keeps the outputs', async () => {
    const big = new CausalLm(
      {
        vocabSize: 4096,
        hiddenSize: 512,
        intermediateSize: 1376,
        numLayers: 8,
        numHeads: 8,
        maxPositionEmbeddings: 256,
      },
      { device: ref },
    );
    const before = big.numParameters();
    const paths = applyLora(big, { rank: 16 });
    expect(paths).toHaveLength(16);
    const added = big.numParameters() - before;
    expect(added / before).toBeLessThan(0.01);
    expect(big.numParameters({ trainableOnly: true })).toBe(added);
    big.dispose();

    const m = new CausalLm(tiny, { device: ref });
    applyLora(m, { rank: 4, targets: ['**.q_proj', '**.v_proj', '**.down_proj'] });
    // Train the adapters a little so B is no longer zero.
    for (let i = 0; i < 3; i++) {
      m.loss(ids(ref, [[1, 2, 3, 4]]), ids(ref, [[2, 3, 4, 5]])).backward();
      await sgdStep(m, 0.5);
    }
    const x = ids(ref, [[3, 1, 4, 1, 5]]);
    const adapted = await vals(noGrad(() => m.forward(x)));
    expect(mergeLora(m)).toHaveLength(6);
    expect([...m.stateDict().keys()].some((k) => k.includes('lora_'))).toBe(false);
    expectClose(
      await vals(noGrad(() => m.forward(x))),
      adapted,
      { atol: 1e-10, rtol: 1e-9 },
      'merged',
    );
  });

  it('two-stage training first opens only the top layers, then all', () => {
    const m = new CausalLm({ ...tiny, numLayers: 4 }, { device: ref });
    applyLora(m, { rank: 2 });
    const plan = twoStageTraining(m, 1);
    expect(plan.stage(1).every((n) => n.startsWith('model.layers.3.'))).toBe(true);
    expect(plan.stage(2)).toHaveLength(4 * 2 * 2);
  });

  it('a ~1M-parameter model overfits a tiny text on WebGPU, without leaking', async () => {
    const cfg: CausalLmConfig = {
      vocabSize: 64,
      hiddenSize: 128,
      intermediateSize: 344,
      numLayers: 4,
      numHeads: 4,
      maxPositionEmbeddings: 32,
      seed: 7,
    };
    const m = new CausalLm(cfg, { device: gpu });
    expect(m.numParameters()).toBeGreaterThan(800_000);
    const text = 'the quick brown fox jumps over the lazy dog';
    const tok = Array.from(text, (c) => c.charCodeAt(0) % 64);
    const x = ids(gpu, [tok.slice(0, 32)]);
    const y = ids(gpu, [tok.slice(1, 33)]);
    const losses: number[] = [];
    let memory = gpu.memory();
    const step = adam(m, 0.005);
    for (let i = 0; i < 40; i++) {
      const loss = await scope(async () => {
        const l = m.loss(x, y);
        l.backward();
        step();
        return l.item();
      });
      losses.push(loss);
      if (i === 1) memory = gpu.memory();
    }
    expect(gpu.memory().liveTensors).toBe(memory.liveTensors);
    expect(gpu.memory().liveBytes).toBe(memory.liveBytes);
    expect(losses[0]).toBeGreaterThan(3);
    expect(losses.at(-1)).toBeLessThan(0.1);
    m.dispose();
  });
});
