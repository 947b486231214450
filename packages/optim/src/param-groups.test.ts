import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDevices, type TestDevices } from '@fathom/tensor-core/testing';
import { AdamW, DEFAULT_NO_DECAY, Sgd } from './index.js';
import { param } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

describe('parameter groups', () => {
  it('the default no-decay rule catches biases and norm weights, not matrices or embeddings', () => {
    const noDecay = [
      'model.layers.0.input_layernorm.weight',
      'model.layers.3.post_attention_layernorm.weight',
      'model.norm.weight',
      'encoder.layer.0.attention.output.LayerNorm.weight',
      'h.0.ln_1.weight',
      'ln_f.weight',
      'h.0.attn.c_attn.bias',
      'bias',
      'model.layers.0.self_attn.q_norm.weight',
    ];
    const decay = [
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
      'lm_head.weight',
      'h.0.mlp.c_fc.weight',
      'biased_proj.weight',
    ];
    for (const n of noDecay) expect(DEFAULT_NO_DECAY.test(n), n).toBe(true);
    for (const n of decay) expect(DEFAULT_NO_DECAY.test(n), n).toBe(false);
  });

  it('accepts plain tensors, named tensors with a custom rule, or explicit groups', () => {
    const [a, b, c] = [1, 2, 3].map((v) => param(d.ref, [v], [1])) as [
      ReturnType<typeof param>,
      ReturnType<typeof param>,
      ReturnType<typeof param>,
    ];
    const plain = new Sgd([a, b], { lr: 0.1 });
    expect(plain.paramGroups.map((g) => [g.name, g.paramNames])).toEqual([
      ['default', ['param.0', 'param.1']],
    ]);

    const custom = new AdamW(
      [
        ['x.scale', a],
        ['x.w', b],
      ],
      { noDecay: (name) => name.endsWith('.scale'), weightDecay: 0.3 },
    );
    expect(custom.paramGroups.map((g) => [g.name, g.paramNames, g.weightDecay])).toEqual([
      ['decay', ['x.w'], 0.3],
      ['no_decay', ['x.scale'], 0],
    ]);
    const off = new AdamW([['x.bias', a]], { noDecay: null });
    expect(off.paramGroups.map((g) => g.name)).toEqual(['default']);

    const groups = new AdamW(
      [
        { params: [['enc.w', a] as const], lr: 1e-4, name: 'encoder' },
        { params: [b, c], betas: [0.5, 0.9] },
      ],
      { lr: 1e-3 },
    );
    expect(
      groups.paramGroups.map((g) => [g.name, g.paramNames, g.lr, g.initialLr, g.betas]),
    ).toEqual([
      ['encoder', ['enc.w'], 1e-4, 1e-4, [0.9, 0.999]],
      ['group.1', ['param.1', 'param.2'], 1e-3, 1e-3, [0.5, 0.9]],
    ]);
    [a, b, c].forEach((t) => t.dispose());
  });

  it('names what is wrong with the params argument', () => {
    const a = param(d.ref, [1], [1]);
    expect(() => new Sgd([a, 3 as never])).toThrow(
      'Sgd: params[1] is number; expected a Tensor or a [name, Tensor] pair',
    );
    expect(
      () =>
        new Sgd([
          ['w', a],
          ['w', param(d.ref, [1], [1])],
        ]),
    ).toThrow("Sgd: two parameters are named 'w'");
    expect(() => new Sgd([{ params: [a] }, { params: [a] }])).toThrow(
      "Sgd: parameter 'param.1' is the same tensor as 'param.0'",
    );
    expect(() => new Sgd([{ params: [a], lr: -2 }])).toThrow("Sgd: group 'group.0' lr is -2");
    a.dispose();
  });
});
