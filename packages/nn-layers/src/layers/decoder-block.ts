/** A pre-norm decoder block: h = x + attn(norm₁(x)); out = h + mlp(norm₂(h)). */
import { type Tensor, add } from '@fathom/tensor-core';
import { Module } from '../module.js';
import {
  type AttentionCallOptions,
  type AttentionOptions,
  CausalSelfAttention,
  type Projection,
} from './attention.js';
import { GeluMlp, type MlpOptions, SwiGlu } from './mlp.js';
import { LayerNorm, RmsNorm } from './norms.js';

/** Options of {@link DecoderBlock}. */
export interface DecoderBlockOptions
  extends AttentionOptions, Omit<MlpOptions, keyof AttentionOptions> {
  intermediateSize: number;
  mlp?: 'swiglu' | 'gelu';
  norm?: 'rms' | 'layer';
  normEps?: number;
}

/** Names follow Hugging Face's LlamaDecoderLayer: input_layernorm, self_attn, post_attention_layernorm, mlp. */
export class DecoderBlock extends Module {
  /** The attention layer. */
  get attn(): CausalSelfAttention {
    return this.child<CausalSelfAttention>('self_attn');
  }

  constructor(options: DecoderBlockOptions) {
    super();
    const makeNorm = (): RmsNorm | LayerNorm =>
      options.norm === 'layer'
        ? new LayerNorm(options.hiddenSize, options.normEps ?? 1e-5, options)
        : new RmsNorm(options.hiddenSize, options.normEps ?? 1e-6, options);
    this.registerModule('input_layernorm', makeNorm());
    this.registerModule('self_attn', new CausalSelfAttention(options));
    this.registerModule('post_attention_layernorm', makeNorm());
    this.registerModule('mlp', options.mlp === 'gelu' ? new GeluMlp(options) : new SwiGlu(options));
  }

  forward(x: Tensor, call: AttentionCallOptions = {}): Tensor {
    const n1 = this.child<Projection>('input_layernorm').forward(x);
    const a = this.attn.forward(n1, call);
    const h = add(x, a);
    const n2 = this.child<Projection>('post_attention_layernorm').forward(h);
    const m = this.child<Projection>('mlp').forward(n2);
    const out = add(h, m);
    for (const t of [n1, a, h, n2, m]) t.dispose();
    return out;
  }
}
