/**
 * The benchmark's GPT-style model written with TensorFlow.js ops, matching
 * `@fathom/nn-layers`' `CausalLm` with `mlp: 'gelu', norm: 'layer'`: token
 * embedding, pre-norm blocks (LayerNorm with weight and bias, causal multi-head
 * attention with rotary positions and bias-free projections, GELU-tanh MLP with
 * biases), final LayerNorm, untied LM head; mean cross-entropy; Adam with
 * decoupled weight decay (AdamW) on the matrices.
 */
import type * as TfCore from '@tensorflow/tfjs-core';

/** Model sizes shared by both frameworks. */
export interface GptSizes {
  vocab: number;
  context: number;
  dModel: number;
  heads: number;
  layers: number;
  mlp: number;
  batch: number;
}

/** A TF.js GPT with its variables and an AdamW step. */
export class TfGpt {
  private readonly vars = new Map<string, TfCore.Variable>();
  private readonly decayed: TfCore.Variable[] = [];
  private readonly cos: TfCore.Tensor;
  private readonly sin: TfCore.Tensor;
  private readonly mask: TfCore.Tensor;
  private readonly optimizer: TfCore.Optimizer;

  constructor(
    private readonly tf: typeof TfCore,
    private readonly s: GptSizes,
    private readonly lr = 3e-4,
    private readonly weightDecay = 0.1,
  ) {
    const normal = (shape: number[], std: number): TfCore.Tensor =>
      tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), std);
    const add = (name: string, init: TfCore.Tensor, decay = false): void => {
      const v = tf.variable(init, true, name);
      this.vars.set(name, v);
      if (decay) this.decayed.push(v);
    };
    const d = s.dModel;
    const outStd = 0.02 / Math.sqrt(2 * s.layers);
    add('embed', normal([s.vocab, d], 0.02), true);
    for (let l = 0; l < s.layers; l++) {
      add(`ln1w${l}`, tf.ones([d]));
      add(`ln1b${l}`, tf.zeros([d]));
      for (const p of ['q', 'k', 'v']) add(`${p}${l}`, normal([d, d], 0.02), true);
      add(`o${l}`, normal([d, d], outStd), true);
      add(`ln2w${l}`, tf.ones([d]));
      add(`ln2b${l}`, tf.zeros([d]));
      add(`fc1${l}`, normal([d, s.mlp], 0.02), true);
      add(`fc1b${l}`, tf.zeros([s.mlp]));
      add(`fc2${l}`, normal([s.mlp, d], outStd), true);
      add(`fc2b${l}`, tf.zeros([d]));
    }
    add('lnfw', tf.ones([d]));
    add('lnfb', tf.zeros([d]));
    add('head', normal([d, s.vocab], 0.02), true);
    const hd = d / s.heads;
    const half = hd / 2;
    const inv = Array.from({ length: half }, (_, i) => 1 / 10000 ** ((2 * i) / hd));
    const ang = tf.outerProduct(tf.range(0, s.context), tf.tensor1d(inv));
    const full = tf.concat([ang, ang], 1);
    this.cos = tf.keep(tf.cos(full));
    this.sin = tf.keep(tf.sin(full));
    this.mask = tf.keep(
      tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([s.context, s.context]), -1, 0)), -1e9),
    );
    this.optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  private v(name: string): TfCore.Variable {
    return this.vars.get(name)!;
  }

  private layerNorm(x: TfCore.Tensor, w: string, b: string): TfCore.Tensor {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(
      tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), this.v(w)),
      this.v(b),
    );
  }

  private rope(x: TfCore.Tensor): TfCore.Tensor {
    const tf = this.tf;
    const hd = x.shape[3]!;
    const [a, b] = tf.split(x, [hd / 2, hd / 2], 3);
    const rotated = tf.concat([tf.neg(b!), a!], 3);
    return tf.add(tf.mul(x, this.cos), tf.mul(rotated, this.sin));
  }

  private geluTanh(x: TfCore.Tensor): TfCore.Tensor {
    const tf = this.tf;
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  }

  /** Mean next-token cross-entropy of `targets` given `ids` (both int32 [B, T]). */
  loss(ids: TfCore.Tensor, targets: TfCore.Tensor): TfCore.Scalar {
    const tf = this.tf;
    const { batch: B, context: T, dModel: d, heads: H, vocab: V } = this.s;
    const hd = d / H;
    let h = tf.reshape(tf.gather(this.v('embed'), tf.reshape(ids, [-1])), [B * T, d]);
    const heads = (x: TfCore.Tensor): TfCore.Tensor =>
      tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]);
    for (let l = 0; l < this.s.layers; l++) {
      const x = this.layerNorm(h, `ln1w${l}`, `ln1b${l}`);
      const q = this.rope(heads(tf.matMul(x, this.v(`q${l}`))));
      const k = this.rope(heads(tf.matMul(x, this.v(`k${l}`))));
      const v = heads(tf.matMul(x, this.v(`v${l}`)));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), this.mask);
      const att = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, d]);
      h = tf.add(h, tf.matMul(merged, this.v(`o${l}`)));
      const y = this.layerNorm(h, `ln2w${l}`, `ln2b${l}`);
      const a = this.geluTanh(tf.add(tf.matMul(y, this.v(`fc1${l}`)), this.v(`fc1b${l}`)));
      h = tf.add(h, tf.add(tf.matMul(a, this.v(`fc2${l}`)), this.v(`fc2b${l}`)));
    }
    const logits = tf.matMul(this.layerNorm(h, 'lnfw', 'lnfb'), this.v('head'));
    const onehot = tf.oneHot(tf.reshape(targets, [-1]), V);
    return tf.losses.softmaxCrossEntropy(onehot, logits) as TfCore.Scalar;
  }

  /** One training step (forward, backward, AdamW); resolves to the loss. */
  async step(ids: TfCore.Tensor, targets: TfCore.Tensor): Promise<number> {
    const tf = this.tf;
    const loss = this.optimizer.minimize(() => this.loss(ids, targets), true)!;
    // Decoupled weight decay: p ← p·(1 − lr·λ), as AdamW.
    tf.tidy(() => {
      for (const v of this.decayed) v.assign(tf.mul(v, 1 - this.lr * this.weightDecay));
    });
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  }
}
