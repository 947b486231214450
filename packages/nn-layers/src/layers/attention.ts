/**
 * Causal self-attention with multi-head or grouped-query heads (numKvHeads
 * divides numHeads), rotary positions, and an optional KV cache. Projection
 * names match Hugging Face's LLaMA: q_proj, k_proj, v_proj, o_proj.
 */
import {
  type Tensor,
  arange,
  expand,
  keep,
  le,
  matmul,
  mul,
  reshape,
  slice,
  softmax,
  transpose,
  unsqueeze,
  where,
} from '@fathom/tensor-core';
import { Module } from '../module.js';
import { Dropout } from './dropout.js';
import type { InitOptions } from './init.js';
import type { LayerKvCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { Rope } from './rope.js';

/** A layer mapping [..., in] to [..., out]: a Linear, or a replacement such as LoRA's or a quantised one. */
export interface Projection extends Module {
  forward(x: Tensor): Tensor;
}

/** Options of {@link CausalSelfAttention}. */
export interface AttentionOptions extends InitOptions {
  hiddenSize: number;
  numHeads: number;
  /** Key/value heads; equal to numHeads for MHA, fewer for GQA (default numHeads). */
  numKvHeads?: number;
  maxLength: number;
  ropeTheta?: number;
  /** Dropout on attention probabilities (default 0). */
  dropout?: number;
  /** Add biases to the projections (default false, as LLaMA). */
  bias?: boolean;
  initStd?: number;
  /** Standard deviation of o_proj (scaled residual init); defaults to initStd. */
  outputInitStd?: number;
  /** Apply the causal mask (default true). */
  causal?: boolean;
}

/** Per-call options of {@link CausalSelfAttention.forward}. */
export interface AttentionCallOptions {
  /** Cached keys/values of earlier positions; new ones are appended. */
  cache?: LayerKvCache;
  /** Receives the attention probabilities [B, H, T, S] (for distillation); the callee owns them. */
  captureProbs?: (probs: Tensor) => void;
}

/** See the module comment. */
export class CausalSelfAttention extends Module {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly causal: boolean;
  readonly rope: Rope;
  private readonly positions: Tensor;
  private readonly drop: Dropout;

  constructor(options: AttentionOptions) {
    super();
    const { hiddenSize, numHeads } = options;
    const numKvHeads = options.numKvHeads ?? numHeads;
    if (hiddenSize % numHeads !== 0)
      throw new RangeError(
        `CausalSelfAttention: hiddenSize ${hiddenSize} is not divisible by numHeads ${numHeads}`,
      );
    if (numHeads % numKvHeads !== 0)
      throw new RangeError(
        `CausalSelfAttention: numKvHeads ${numKvHeads} must divide numHeads ${numHeads}`,
      );
    this.numHeads = numHeads;
    this.numKvHeads = numKvHeads;
    this.headDim = hiddenSize / numHeads;
    this.causal = options.causal ?? true;
    const lin = { ...options, bias: options.bias ?? false };
    this.registerModule('q_proj', new Linear(hiddenSize, numHeads * this.headDim, lin));
    this.registerModule('k_proj', new Linear(hiddenSize, numKvHeads * this.headDim, lin));
    this.registerModule('v_proj', new Linear(hiddenSize, numKvHeads * this.headDim, lin));
    this.registerModule(
      'o_proj',
      new Linear(numHeads * this.headDim, hiddenSize, {
        ...lin,
        initStd: options.outputInitStd ?? options.initStd ?? 0.02,
      }),
    );
    this.drop = new Dropout(options.dropout ?? 0, options.generator);
    this.rope = new Rope(
      this.headDim,
      options.maxLength,
      options.ropeTheta ?? 10000,
      options.device,
    );
    this.positions = keep(
      arange(0, options.maxLength, 1, {
        ...(options.device ? { device: options.device } : {}),
        dtype: 'i32',
      }),
    );
  }

  /** x: [B, T, hidden] → [B, T, hidden]. */
  forward(x: Tensor, call: AttentionCallOptions = {}): Tensor {
    if (x.rank !== 3)
      throw new RangeError(
        `CausalSelfAttention: input has shape [${x.shape.join(',')}]; expected [batch, time, hidden]`,
      );
    const [b, t] = x.shape as [number, number, number];
    const offset = call.cache?.length ?? 0;
    const heads = (proj: string, n: number): Tensor => {
      const y = this.child<Projection>(proj).forward(x);
      const r = reshape(y, [b, t, n, this.headDim]);
      const tr = transpose(r, 1, 2);
      y.dispose();
      r.dispose();
      return tr;
    };
    const q0 = heads('q_proj', this.numHeads);
    const k0 = heads('k_proj', this.numKvHeads);
    const v0 = heads('v_proj', this.numKvHeads);
    const q = this.rope.apply(q0, offset);
    const kNew = this.rope.apply(k0, offset);
    q0.dispose();
    k0.dispose();
    let k = kNew;
    let v = v0;
    if (call.cache) {
      ({ k, v } = call.cache.append(kNew, v0));
      kNew.dispose();
      v0.dispose();
    }
    const s = k.shape[2]!;
    const kr = this.repeatKv(k);
    const vr = this.repeatKv(v);
    const raw = matmul(q, kr, { transB: true });
    const scores = mul(raw, 1 / Math.sqrt(this.headDim));
    const masked = this.causal ? this.mask(scores, t, s, offset) : scores;
    const probs = softmax(masked, -1);
    const dropped = this.drop.forward(probs);
    call.captureProbs?.(probs);
    const ctx = matmul(dropped, vr);
    const ctxT = transpose(ctx, 1, 2);
    const merged = reshape(ctxT, [b, t, this.numHeads * this.headDim]);
    const out = this.child<Projection>('o_proj').forward(merged);
    const temps = [q, raw, scores, ctx, ctxT, merged];
    if (masked !== scores) temps.push(masked);
    if (dropped !== probs) temps.push(dropped);
    if (!call.captureProbs) temps.push(probs);
    if (kr !== k) temps.push(kr);
    if (vr !== v) temps.push(vr);
    if (!call.cache) temps.push(k, v);
    for (const z of temps) z.dispose();
    return out;
  }

  /** Repeats each KV head numHeads/numKvHeads times: [B, Hkv, S, d] → [B, H, S, d]. */
  private repeatKv(x: Tensor): Tensor {
    const rep = this.numHeads / this.numKvHeads;
    if (rep === 1) return x;
    const [b, h, s, d] = x.shape as [number, number, number, number];
    const u = unsqueeze(x, 2);
    const e = expand(u, [b, h, rep, s, d]);
    const r = reshape(e, [b, h * rep, s, d]);
    u.dispose();
    e.dispose();
    return r;
  }

  /** Adds −inf where key position > query position (queries sit at offset … offset+T−1). */
  private mask(scores: Tensor, t: number, s: number, offset: number): Tensor {
    const rows = slice(this.positions, [{ start: offset, end: offset + t }]);
    const cols = slice(this.positions, [{ start: 0, end: s }]);
    const r = reshape(rows, [t, 1]);
    const allowed = le(cols, r);
    const out = where(allowed, scores, -Infinity);
    for (const z of [rows, cols, r, allowed]) z.dispose();
    return out;
  }

  protected override releaseBuffers(): void {
    this.rope.dispose();
    this.positions.dispose();
  }
}
