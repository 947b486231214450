/**
 * LoRA (Hu et al., 2021): a frozen Linear plus a trainable low-rank update,
 * y = W·x + (α/r)·B·A·x, with A [r, in] random and B [out, r] zero so training
 * starts from the base model. The base weight keeps its name (`…q_proj.weight`);
 * the adapters add `…q_proj.lora_A.weight` and `…q_proj.lora_B.weight`.
 */
import { type Tensor, add, executeInPlace, matmul, mul, noGrad } from '@fathom/tensor-core';
import { Module, type NamePattern, patternToRegExp } from '../module.js';
import type { InitOptions } from '../layers/init.js';
import { constantInit } from '../layers/init.js';
import { Linear } from '../layers/linear.js';

/** Options of {@link applyLora}. */
export interface LoraOptions extends InitOptions {
  rank: number;
  /** Scale numerator: the update is multiplied by alpha / rank (default 2·rank). */
  alpha?: number;
  /** Module paths to adapt, e.g. `'**.q_proj'` or `/self_attn\.(q|v)_proj$/` (default q_proj and v_proj). */
  targets?: NamePattern[];
}

/** A Linear with a LoRA update. */
export class LoraLinear extends Module {
  readonly scale: number;
  private readonly a: Linear;
  private readonly b: Linear;

  constructor(
    readonly base: Linear,
    readonly rank: number,
    alpha: number,
    options: InitOptions = {},
  ) {
    super();
    if (!Number.isInteger(rank) || rank <= 0)
      throw new RangeError(`LoraLinear: rank must be a positive integer; got ${rank}`);
    this.scale = alpha / rank;
    // The base's parameters are re-registered here so their names do not change.
    this.registerParameter('weight', base.weight, false);
    if (base.bias) this.registerParameter('bias', base.bias, false);
    const device = base.weight.device;
    this.a = this.registerModule(
      'lora_A',
      new Linear(base.inFeatures, rank, {
        ...options,
        device,
        initStd: 1 / Math.sqrt(base.inFeatures),
      }),
    );
    this.b = this.registerModule(
      'lora_B',
      new Linear(rank, base.outFeatures, { ...options, device }),
    );
    noGrad(() => {
      const zero = constantInit([base.outFeatures, rank], 0, { device });
      executeInPlace('copy', [zero], [this.b.weight], {});
      zero.dispose();
    });
  }

  forward(x: Tensor): Tensor {
    const y = this.base.forward(x);
    const h = this.a.forward(x);
    const u = this.b.forward(h);
    const s = mul(u, this.scale);
    const out = add(y, s);
    for (const t of [y, h, u, s]) t.dispose();
    return out;
  }

  /** The merged weight W + (α/r)·B·A (a new tensor). */
  mergedWeight(): Tensor {
    return noGrad(() => {
      const ba = matmul(this.b.weight, this.a.weight);
      const scaled = mul(ba, this.scale);
      const w = add(this.base.weight, scaled);
      ba.dispose();
      scaled.dispose();
      return w;
    });
  }
}

/**
 * Injects LoRA adapters into every Linear whose path matches a target, and freezes
 * everything else. Returns the adapted paths.
 */
export function applyLora(model: Module, options: LoraOptions): string[] {
  const targets = (options.targets ?? ['**.q_proj', '**.v_proj']).map(patternToRegExp);
  model.freeze();
  const adapted: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !targets.some((re) => re.test(path))) continue;
    model.setSubmodule(
      path,
      new LoraLinear(m, options.rank, options.alpha ?? 2 * options.rank, options),
    );
    adapted.push(path);
  }
  if (adapted.length === 0)
    throw new Error(`applyLora: no Linear layer matches targets ${targets.map(String).join(', ')}`);
  return adapted;
}

/** Folds every adapter into its base weight and puts the plain Linear back. Returns the merged paths. */
export function mergeLora(model: Module): string[] {
  const merged: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof LoraLinear)) continue;
    const w = m.mergedWeight();
    noGrad(() => executeInPlace('copy', [w], [m.base.weight], {}));
    w.dispose();
    model.setSubmodule(path, m.base);
    for (const p of [...m.namedChildren()]
      .filter(([n]) => n.startsWith('lora_'))
      .flatMap(([, c]) => c.parameters()))
      p.dispose();
    merged.push(path);
  }
  return merged;
}

/**
 * Two-stage fine-tuning: `stage(1)` trains only the adapters (or all parameters, when the
 * model has none) of the top `topLayers` decoder layers; `stage(2)` trains all of them.
 * Returns the names made trainable.
 */
export function twoStageTraining(model: Module, topLayers: number): { stage(n: 1 | 2): string[] } {
  const lora = /lora_[AB]\./;
  const hasLora = model.namedParameters().some(([n]) => lora.test(n));
  const layerOf = (name: string): number => Number(/layers\.(\d+)\./.exec(name)?.[1] ?? -1);
  const numLayers = 1 + Math.max(-1, ...model.namedParameters().map(([n]) => layerOf(n)));
  const trainable = (name: string, stage: 1 | 2): boolean => {
    if (hasLora && !lora.test(name)) return false;
    return stage === 2 || layerOf(name) >= numLayers - topLayers;
  };
  return {
    stage(n) {
      model.freeze();
      const names = model
        .namedParameters()
        .map(([name]) => name)
        .filter((name) => trainable(name, n));
      for (const name of names) model.unfreeze(new RegExp(`^${name.replace(/\./g, '\\.')}$`));
      return names;
    },
  };
}
