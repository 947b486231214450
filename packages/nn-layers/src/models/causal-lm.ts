/**
 * `CausalLm`: a LLaMA-style decoder (embedding, N pre-norm blocks, final norm,
 * LM head) with Hugging Face's parameter names (`model.embed_tokens.weight`,
 * `model.layers.{i}.…`, `model.norm.weight`, `lm_head.weight`), optional
 * weight tying, LayerDrop and cross-layer parameter sharing.
 */
import { type Device, Generator, type Tensor, crossEntropy, reshape } from '@fathom/tensor-core';
import { Module } from '../module.js';
import { DecoderBlock } from '../layers/decoder-block.js';
import { Dropout } from '../layers/dropout.js';
import { Embedding } from '../layers/embedding.js';
import type { Projection } from '../layers/attention.js';
import type { KvCache } from '../layers/kv-cache.js';
import { Linear } from '../layers/linear.js';
import { LayerNorm, RmsNorm } from '../layers/norms.js';
import { type CausalLmConfig, resolveConfig } from './config.js';
import { layerDropDraw } from './layer-drop.js';

/** Hooks to observe intermediate values (used by distillation); the callee owns what it receives. */
export interface ForwardHooks {
  /** The residual stream after each layer (index 0 is the embedding output). */
  hiddenState?: (layer: number, h: Tensor) => void;
  /** Attention probabilities [B, H, T, S] of each layer. */
  attentionProbs?: (layer: number, probs: Tensor) => void;
}

/** Per-call options of {@link CausalLm.forward}. */
export interface CausalLmCallOptions {
  cache?: KvCache;
  hooks?: ForwardHooks;
}

/** The model container named `model` in Hugging Face's layout: embedding, layers, final norm. */
export class DecoderStack extends Module {
  readonly embed: Embedding;
  readonly layers: DecoderBlock[];
  readonly norm: RmsNorm | LayerNorm;

  constructor(
    config: ReturnType<typeof resolveConfig>,
    device: Device | undefined,
    generator: Generator,
  ) {
    super();
    const init = { ...(device ? { device } : {}), generator };
    this.embed = this.registerModule(
      'embed_tokens',
      new Embedding(config.vocabSize, config.hiddenSize, {
        ...init,
        initStd: config.initializerRange,
      }),
    );
    const layersModule = this.registerModule('layers', new LayerList());
    const blocks = new Map<number, DecoderBlock>();
    // GPT-2's scaled init: residual outputs get std / sqrt(2 · layers).
    const outputInitStd = config.initializerRange / Math.sqrt(2 * config.numLayers);
    this.layers = config.layerGroups.map((group, i) => {
      let block = blocks.get(group);
      if (!block) {
        block = new DecoderBlock({
          ...init,
          hiddenSize: config.hiddenSize,
          intermediateSize: config.intermediateSize,
          numHeads: config.numHeads,
          numKvHeads: config.numKvHeads,
          maxLength: config.maxPositionEmbeddings,
          ropeTheta: config.ropeTheta,
          dropout: config.attentionDropout,
          mlp: config.mlp,
          norm: config.norm,
          normEps: config.normEps,
          initStd: config.initializerRange,
          outputInitStd,
        });
        blocks.set(group, block);
      }
      return layersModule.add(i, block);
    });
    this.norm = this.registerModule(
      'norm',
      config.norm === 'layer'
        ? new LayerNorm(config.hiddenSize, config.normEps, init)
        : new RmsNorm(config.hiddenSize, config.normEps, init),
    );
  }
}

/** A numbered list of modules (`layers.0`, `layers.1`, …). */
class LayerList extends Module {
  add<M extends Module>(index: number, m: M): M {
    return this.registerModule(index, m);
  }
}

/** See the module comment. */
export class CausalLm extends Module {
  readonly config: ReturnType<typeof resolveConfig>;
  readonly model: DecoderStack;
  readonly lmHead: Linear;
  private readonly dropout: Dropout;
  private readonly layerDropSeed: number;
  /** Training forwards so far (LayerDrop draws depend on it, so resume is exact). */
  layerDropStep = 0;

  constructor(config: CausalLmConfig, options: { device?: Device } = {}) {
    super();
    this.config = resolveConfig(config);
    const generator = new Generator(this.config.seed);
    this.model = this.registerModule(
      'model',
      new DecoderStack(this.config, options.device, generator),
    );
    this.lmHead = this.registerModule(
      'lm_head',
      new Linear(this.config.hiddenSize, this.config.vocabSize, {
        ...(options.device ? { device: options.device } : {}),
        generator,
        initStd: this.config.initializerRange,
      }),
    );
    if (this.config.tieWordEmbeddings) {
      const own = this.lmHead.weight;
      this.lmHead.tieWeight(this.model.embed.weight);
      own.dispose();
    }
    this.dropout = new Dropout(this.config.hiddenDropout, new Generator(this.config.seed + 1));
    this.layerDropSeed = this.config.seed + 2;
  }

  /** ids: i32 [B, T] → logits [B, T, vocab]. */
  forward(ids: Tensor, call: CausalLmCallOptions = {}): Tensor {
    if (ids.rank !== 2 || ids.dtype !== 'i32') {
      throw new TypeError(
        `CausalLm: ids have shape [${ids.shape.join(',')}] and dtype ${ids.dtype}; expected i32 [batch, time]`,
      );
    }
    const total = (call.cache?.length ?? 0) + ids.shape[1]!;
    if (total > this.config.maxPositionEmbeddings) {
      throw new RangeError(
        `CausalLm: ${total} positions exceed maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`,
      );
    }
    const emb = this.model.embed.forward(ids);
    let h = this.dropout.forward(emb);
    if (h !== emb) emb.dispose();
    call.hooks?.hiddenState?.(0, h);
    const step = this.training ? this.layerDropStep++ : -1;
    this.model.layers.forEach((block, i) => {
      const p =
        typeof this.config.layerDrop === 'number'
          ? this.config.layerDrop
          : this.config.layerDrop[i]!;
      // LayerDrop skips the whole block (identity), only in training and never with a cache.
      if (this.training && p > 0 && !call.cache && layerDropDraw(this.layerDropSeed, step, i) < p) {
        call.hooks?.hiddenState?.(i + 1, h);
        return;
      }
      const probsHook = call.hooks?.attentionProbs;
      const next = block.forward(h, {
        ...(call.cache ? { cache: call.cache.layers[i]! } : {}),
        ...(probsHook ? { captureProbs: (probs: Tensor) => probsHook(i, probs) } : {}),
      });
      if (!call.hooks?.hiddenState) h.dispose();
      h = next;
      call.hooks?.hiddenState?.(i + 1, h);
    });
    const n = this.model.norm.forward(h);
    if (!call.hooks?.hiddenState) h.dispose();
    const logits = this.child<Projection>('lm_head').forward(n);
    n.dispose();
    return logits;
  }

  /** Mean next-token cross-entropy of `targets` (i32 [B, T], ignoreIndex −100 skipped). */
  loss(
    ids: Tensor,
    targets: Tensor,
    options: { ignoreIndex?: number; labelSmoothing?: number } = {},
  ): Tensor {
    const logits = this.forward(ids);
    const flat = reshape(logits, [-1, this.config.vocabSize]);
    const t = reshape(targets, [-1]);
    const loss = crossEntropy(flat, t, options);
    for (const z of [logits, flat, t]) z.dispose();
    return loss;
  }
}
