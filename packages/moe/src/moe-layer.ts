/**
 * `MoeLayer`: a DeepSeek-style mixture-of-experts feed-forward block that
 * drops in for a decoder block's `mlp`. Parameter names follow Hugging Face's
 * DeepseekV2/V3: `gate.weight`, `gate.e_score_correction_bias`,
 * `experts.{j}.{gate,up,down}_proj.weight`, `shared_experts.{gate,up,down}_proj.weight`.
 *
 * Besides its output, a training forward leaves on the layer its weighted
 * balance loss ({@link MoeLayer.auxLoss}) and adds the routed counts to two
 * device-side accumulators: one read (and cleared) by {@link MoeLayer.statistics},
 * one spent (and cleared) by {@link MoeLayer.updateBias}.
 */
import {
  type Device,
  type Tensor,
  executeInPlace,
  keep,
  noGrad,
  stack,
  zeros,
} from '@fathom/tensor-core';
import { type InitOptions, type Linear, Module, SwiGlu } from '@fathom/nn-layers';
import { type MoeConfig, type MoeConfigInput, resolveMoeConfig } from './config.js';
import { type BalanceLosses, type MoeWeights, moeForward } from './forward.js';
import { MoeGate } from './gate.js';
import { BIAS_UPDATE, LOAD_ACCUMULATE } from './kernels/accumulate.js';
import { registerMoeKernels } from './kernels/register.js';

/** Options of {@link MoeLayer} beyond its config. */
export interface MoeLayerOptions extends InitOptions {
  hiddenSize: number;
}

/** See the module comment. */
export class MoeLayer extends Module {
  /** The resolved settings. */
  readonly config: MoeConfig;
  readonly hiddenSize: number;
  /** Weighted sum of the balance losses of the last training forward, or null. */
  auxLoss: Tensor | null = null;
  /** The unweighted balance losses of the last training forward. */
  losses: BalanceLosses = {};
  private statsAcc: Tensor;
  private biasLoad: Tensor | null;
  private readonly device: Device;

  constructor(config: MoeConfigInput, options: MoeLayerOptions) {
    super();
    registerMoeKernels();
    this.config = resolveMoeConfig(config);
    this.hiddenSize = options.hiddenSize;
    if (!Number.isInteger(options.hiddenSize) || options.hiddenSize < 1)
      throw new RangeError(
        `MoeLayer: hiddenSize is ${options.hiddenSize}; expected a positive integer`,
      );
    const c = this.config;
    const init = { ...options, initStd: c.initStd };
    this.registerModule(
      'gate',
      new MoeGate(c.numExperts, options.hiddenSize, c.biasUpdateRate > 0, c.initStd, options),
    );
    const experts = new ExpertList();
    for (let j = 0; j < c.numExperts; j++)
      experts.add(
        j,
        new SwiGlu({
          ...init,
          hiddenSize: options.hiddenSize,
          intermediateSize: c.expertIntermediateSize,
        }),
      );
    this.registerModule('experts', experts);
    if (c.numSharedExperts > 0)
      this.registerModule(
        'shared_experts',
        new SwiGlu({
          ...init,
          hiddenSize: options.hiddenSize,
          intermediateSize: c.numSharedExperts * c.expertIntermediateSize,
        }),
      );
    this.device = this.gate.weight.device;
    this.statsAcc = this.freshAccumulator();
    this.biasLoad = c.biasUpdateRate > 0 ? this.freshAccumulator() : null;
  }

  /** The router. */
  get gate(): MoeGate {
    return this.child<MoeGate>('gate');
  }

  private freshAccumulator(): Tensor {
    return keep(zeros([this.config.numExperts + 2], { device: this.device }));
  }

  private linearWeight(path: string): Tensor {
    return (this.getSubmodule(path) as Linear).weight;
  }

  /** x: [..., hidden] → [..., hidden]. */
  forward(x: Tensor): Tensor {
    const c = this.config;
    const stacked = (proj: string): Tensor =>
      stack(
        Array.from({ length: c.numExperts }, (_, j) => this.linearWeight(`experts.${j}.${proj}`)),
      );
    const weights: MoeWeights = {
      gate: this.gate.weight,
      bias: this.gate.bias,
      expertGate: stacked('gate_proj'),
      expertUp: stacked('up_proj'),
      expertDown: stacked('down_proj'),
      shared:
        c.numSharedExperts > 0
          ? {
              gate: this.linearWeight('shared_experts.gate_proj'),
              up: this.linearWeight('shared_experts.up_proj'),
              down: this.linearWeight('shared_experts.down_proj'),
            }
          : null,
    };
    const result = moeForward(x, weights, {
      ...c,
      balance: this.training ? c.balance : NO_BALANCE,
    });
    for (const t of [weights.expertGate, weights.expertUp, weights.expertDown]) t.dispose();
    if (this.training) {
      this.auxLoss = result.auxLoss;
      this.losses = result.losses;
      const assignments = result.experts.size;
      noGrad(() => {
        const inputs = [result.plan.counts, result.plan.segments];
        executeInPlace(LOAD_ACCUMULATE, inputs, [this.statsAcc], { assignments });
        if (this.biasLoad)
          executeInPlace(LOAD_ACCUMULATE, inputs, [this.biasLoad], { assignments });
      });
    } else {
      this.auxLoss = null;
      this.losses = {};
    }
    result.disposeRouting();
    return result.output;
  }

  /**
   * The raw routing counts since the last call, `[E + 2]`: tokens routed to
   * each expert, then dropped assignments, then all assignments. Clears them.
   * The returned tensor is the caller's (no readback happens here).
   */
  takeLoadCounts(): Tensor {
    const out = this.statsAcc;
    this.statsAcc = this.freshAccumulator();
    return out;
  }

  /**
   * Auxiliary-loss-free balancing: bias[e] += γ·sign(mean load − load[e]) from
   * the loads routed since the last update, on the device. A no-op without
   * `biasUpdateRate`. Call after each optimizer step.
   */
  updateBias(): void {
    const bias = this.gate.bias;
    if (!bias || !this.biasLoad) return;
    noGrad(() =>
      executeInPlace(BIAS_UPDATE, [this.biasLoad!], [bias], { rate: this.config.biasUpdateRate }),
    );
    this.biasLoad.dispose();
    this.biasLoad = this.freshAccumulator();
  }

  protected override releaseBuffers(): void {
    this.statsAcc.dispose();
    this.biasLoad?.dispose();
  }
}

const NO_BALANCE = Object.freeze({ seeds: 0, switch: 0, zLoss: 0, sequence: 0 });

/** A numbered list of experts (PyTorch's ModuleList), so names read `experts.{j}.…`. */
class ExpertList extends Module {
  add(index: number, module: Module): void {
    this.registerModule(index, module);
  }
}
