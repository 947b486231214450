/** Gradient norms per parameter and per layer for monitoring, with a single readback. */
import { scope } from '@fathom/tensor-core';
import { checkNormType, normsOf } from './norms.js';
import type { NamedParameter } from './param-groups.js';

/** Options of {@link gradNormReport}. */
export interface GradNormReportOptions {
  /**
   * Groups parameters into layers: the first capture group (or the whole match)
   * names the layer. Default `/layers\.(\d+)\./` (Hugging Face LLaMA names).
   */
  layerPattern?: RegExp;
  /** Norm order (p > 0 or `Infinity`). Default 2. */
  normType?: number;
}

/** What {@link gradNormReport} returns. */
export interface GradNormReport {
  /** Norm of all gradients together. */
  total: number;
  /** Each parameter that has a gradient, in the order given. */
  parameters: { name: string; norm: number }[];
  /** Layers matched by the pattern, in order of first appearance, with how many parameters each has. */
  layers: { layer: string; norm: number; parameters: number }[];
  /** Names of parameters that had no gradient. */
  missing: string[];
}

function combine(norms: readonly number[], p: number): number {
  if (p === Infinity) return norms.reduce((a, b) => Math.max(a, b), 0);
  return norms.reduce((a, b) => a + b ** p, 0) ** (1 / p);
}

/**
 * Computes every gradient's norm on the device into one tensor and reads it
 * once; the total and per-layer norms are combined from those on the host
 * (in float64). Parameters without a gradient are listed in `missing`.
 */
export async function gradNormReport(
  params: readonly NamedParameter[],
  options: GradNormReportOptions = {},
): Promise<GradNormReport> {
  const op = 'gradNormReport';
  const p = checkNormType(op, options.normType ?? 2);
  const pattern = options.layerPattern ?? /layers\.(\d+)\./;
  const present = params.filter(([, t]) => t.grad !== null);
  const missing = params.filter(([, t]) => t.grad === null).map(([n]) => n);
  if (present.length === 0) return { total: 0, parameters: [], layers: [], missing };
  const values = await scope(async () => {
    const { norms } = normsOf(
      present.map(([, t]) => t.grad!),
      p,
      op,
    );
    return Array.from(await norms.toArray());
  });
  const parameters = present.map(([name], i) => ({ name, norm: values[i]! }));
  const byLayer = new Map<string, number[]>();
  for (const { name, norm } of parameters) {
    pattern.lastIndex = 0;
    const m = pattern.exec(name);
    if (!m) continue;
    const key = m[1] ?? m[0];
    const list = byLayer.get(key) ?? [];
    list.push(norm);
    byLayer.set(key, list);
  }
  return {
    total: combine(values, p),
    parameters,
    layers: [...byLayer].map(([layer, norms]) => ({
      layer,
      norm: combine(norms, p),
      parameters: norms.length,
    })),
    missing,
  };
}
