/**
 * Magnitude pruning: zero the smallest-magnitude weights of each targeted Linear,
 * either anywhere in the matrix (unstructured) or n of every m consecutive input
 * weights of a row (N:M, e.g. 2:4), with a polynomial sparsity schedule
 * (Zhu & Gupta, 2017) for gradual pruning during training.
 */
import { type Tensor, executeInPlace, fromArray, keep, mul, noGrad } from '@fathom/tensor-core';
import { Linear, type Module, type NamePattern, patternToRegExp } from '@fathom/nn-layers';

/** Unstructured at a sparsity, or `n` of every `m` consecutive weights of a row kept. */
export type PrunePattern = { kind: 'unstructured' } | { kind: 'n:m'; n: number; m: number };

/**
 * The keep-mask (1 kept, 0 pruned) of a row-major [rows, cols] matrix. Unstructured prunes
 * the ⌊sparsity · size⌉ smallest |values| (ties broken by index); N:M keeps the n largest of
 * each run of m along a row (a shorter last run keeps min(n, its length)).
 */
export function magnitudeMask(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  pattern: PrunePattern,
  sparsity = 0,
): Uint8Array {
  if (values.length !== rows * cols)
    throw new RangeError(
      `magnitudeMask: values has ${values.length} elements; expected rows·cols = ${rows * cols}`,
    );
  const mask = new Uint8Array(values.length).fill(1);
  const byMagnitude = (idx: number[]): number[] =>
    idx.sort((a, b) => Math.abs(values[a]!) - Math.abs(values[b]!) || a - b);
  if (pattern.kind === 'unstructured') {
    if (!(sparsity >= 0 && sparsity <= 1))
      throw new RangeError(`magnitudeMask: sparsity is ${sparsity}; expected a number in [0, 1]`);
    const order = byMagnitude(Array.from({ length: values.length }, (_, i) => i));
    const cut = Math.round(sparsity * values.length);
    for (let i = 0; i < cut; i++) mask[order[i]!] = 0;
    return mask;
  }
  if (
    pattern.kind !== 'n:m' ||
    !Number.isInteger(pattern.m) ||
    !Number.isInteger(pattern.n) ||
    pattern.n < 0 ||
    pattern.n > pattern.m ||
    pattern.m < 1
  )
    throw new RangeError(
      `magnitudeMask: pattern is ${JSON.stringify(pattern)}; expected { kind: 'unstructured' } or { kind: 'n:m', n, m } with integers 0 ≤ n ≤ m, m ≥ 1`,
    );
  for (let r = 0; r < rows; r++)
    for (let c0 = 0; c0 < cols; c0 += pattern.m) {
      const run = Array.from(
        { length: Math.min(pattern.m, cols - c0) },
        (_, j) => r * cols + c0 + j,
      );
      const order = byMagnitude(run);
      const prune = order.length - Math.min(pattern.n, order.length);
      for (let i = 0; i < prune; i++) mask[order[i]!] = 0;
    }
  return mask;
}

/** Options of {@link polynomialSparsity}. */
export interface SparsitySchedule {
  /** Sparsity at `begin` (default 0). */
  initial?: number;
  /** Sparsity from `end` on. */
  final: number;
  begin: number;
  end: number;
  /** Exponent (default 3, as in Zhu & Gupta). */
  power?: number;
}

/** s(t) = final + (initial − final)·(1 − (t − begin)/(end − begin))^power, held outside [begin, end]. */
export function polynomialSparsity(schedule: SparsitySchedule): (step: number) => number {
  const { initial = 0, final, begin, end, power = 3 } = schedule;
  for (const [name, v] of [
    ['initial', initial],
    ['final', final],
  ] as const)
    if (!(v >= 0 && v <= 1))
      throw new RangeError(`polynomialSparsity: ${name} is ${v}; expected a number in [0, 1]`);
  if (!(end > begin))
    throw new RangeError(`polynomialSparsity: end is ${end}; expected more than begin (${begin})`);
  return (step) => {
    if (step <= begin) return initial;
    if (step >= end) return final;
    return final + (initial - final) * (1 - (step - begin) / (end - begin)) ** power;
  };
}

/** Options of {@link MagnitudePruner}. */
export interface PrunerOptions {
  pattern: PrunePattern;
  /** Unstructured: the sparsity per step. N:M ignores it (its sparsity is 1 − n/m from step `nmFrom`). */
  schedule?: (step: number) => number;
  /** N:M: first step at which the pattern applies (default 0). */
  nmFrom?: number;
  /** Module paths (default every Linear except lm_head). */
  targets?: NamePattern[];
}

/**
 * Gradual magnitude pruning of a model's Linear weights. Call `step(t)` at each training step
 * (after the optimizer's step): it recomputes the masks for the scheduled sparsity and zeroes
 * the pruned weights; between recomputations the masks keep pruned weights at zero.
 */
export class MagnitudePruner {
  private readonly layers: [string, Linear][];
  private readonly masks = new Map<string, Tensor>();
  private current = 0;

  constructor(
    model: Module,
    readonly options: PrunerOptions,
  ) {
    const targets = (options.targets ?? ['**']).map(patternToRegExp);
    this.layers = model
      .namedModules()
      .filter(
        (e): e is [string, Linear] =>
          e[1] instanceof Linear &&
          targets.some((re) => re.test(e[0])) &&
          (options.targets !== undefined || !/(^|\.)lm_head$/.test(e[0])),
      );
    if (this.layers.length === 0)
      throw new Error('MagnitudePruner: no Linear layer matches options.targets');
    if (options.pattern.kind === 'unstructured' && !options.schedule)
      throw new Error('MagnitudePruner: options.schedule is required for unstructured pruning');
  }

  /** The sparsity the masks were last computed for. */
  get sparsity(): number {
    return this.current;
  }

  /** Paths of the pruned layers. */
  get paths(): string[] {
    return this.layers.map(([p]) => p);
  }

  /** Recomputes masks for step `t`'s sparsity (when it changed) and applies them. Returns that sparsity. */
  async step(t: number): Promise<number> {
    const p = this.options.pattern;
    const target =
      p.kind === 'unstructured'
        ? this.options.schedule!(t)
        : t >= (this.options.nmFrom ?? 0)
          ? 1 - p.n / p.m
          : 0;
    if (target !== this.current || this.masks.size === 0) {
      for (const m of this.masks.values()) m.dispose();
      this.masks.clear();
      if (target > 0)
        for (const [path, layer] of this.layers) {
          const w = layer.weight;
          const mask = magnitudeMask(
            await w.toArray(),
            layer.outFeatures,
            layer.inFeatures,
            p,
            target,
          );
          this.masks.set(
            path,
            keep(
              fromArray(mask, [layer.outFeatures, layer.inFeatures], {
                device: w.device,
                dtype: 'f32',
              }),
            ),
          );
        }
      this.current = target;
    }
    this.apply();
    return target;
  }

  /** Zeroes the pruned weights under the current masks. */
  apply(): void {
    noGrad(() => {
      for (const [path, layer] of this.layers) {
        const mask = this.masks.get(path);
        if (!mask) continue;
        const kept = mul(layer.weight, mask);
        executeInPlace('copy', [kept], [layer.weight], {});
        kept.dispose();
      }
    });
  }

  /** Frees the masks. */
  dispose(): void {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

/** Fraction of exact zeros among the weights of `model`'s Linear layers matching `targets` (default all). */
export async function weightSparsity(
  model: Module,
  targets: NamePattern[] = ['**'],
): Promise<number> {
  const res = targets.map(patternToRegExp);
  let zeros = 0;
  let total = 0;
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !res.some((re) => re.test(path))) continue;
    const v = await m.weight.toArray();
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    total += v.length;
  }
  return total === 0 ? 0 : zeros / total;
}
