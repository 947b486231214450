/**
 * Routing statistics of every MoE layer since the last read, derived on the
 * device from the layers' load counters and read back in one transfer.
 */
import {
  type Tensor,
  add,
  concat,
  div,
  fromArray,
  mean,
  scope,
  slice,
  sqrt,
  stack,
  sum,
  variance,
} from '@fathom/tensor-core';
import type { Module } from '@fathom/nn-layers';
import { moeLayers } from './model.js';

/** Routing statistics of one MoE layer over the forwards since the last read. */
export interface MoeLayerStatistics {
  /** Dotted module name, e.g. `model.layers.3.mlp`. */
  name: string;
  /** Training forwards' tokens routed to each expert (before capacity dropping). */
  tokensPerExpert: number[];
  /** Fraction of tokens that activated each expert (sums to k). */
  activationFrequency: number[];
  /** Coefficient of variation of the per-expert load: std/mean (population std). */
  loadCv: number;
  /** Standard deviation of the normalised load (each expert's share of all assignments). */
  normalizedLoadStd: number;
  /** Fraction of token→expert assignments dropped by capacity limits. */
  droppedFraction: number;
  /** Tokens seen. */
  tokens: number;
}

/**
 * Reads and clears the routing statistics of every MoE layer of `model` (one
 * readback for all layers). Counters accumulate over training forwards, so
 * calling it every step gives per-step figures and calling it every n steps
 * gives figures over those n steps. Layers that saw no token report NaN.
 */
export async function moeStatistics(model: Module): Promise<MoeLayerStatistics[]> {
  const layers = moeLayers(model);
  if (layers.length === 0) return [];
  const e = layers[0]![1].config.numExperts;
  if (layers.some(([, l]) => l.config.numExperts !== e)) {
    // Different expert counts: one readback per distinct width keeps this simple and exact.
    const out: MoeLayerStatistics[] = [];
    for (const [name, layer] of layers) out.push(...(await readStats([[name, layer]])));
    return out;
  }
  return readStats(layers);
}

async function readStats(layers: ReturnType<typeof moeLayers>): Promise<MoeLayerStatistics[]> {
  const e = layers[0]![1].config.numExperts;
  const counters = layers.map(([, l]) => l.takeLoadCounts());
  const packed = scope(() => {
    const acc = stack(counters); // [L, E + 2]
    const cols = (start: number, end: number): Tensor => slice(acc, [undefined, { start, end }]);
    const counts = cols(0, e);
    const dropped = cols(e, e + 1);
    const assignments = cols(e + 1, e + 2);
    const ks = layers.map(([, l]) => l.config.topK);
    const kCol = fromArray(ks, [ks.length, 1], { device: acc.device, dtype: 'f32' });
    const tokens = div(assignments, kCol);
    const freq = div(counts, tokens);
    const m = mean(counts, { axis: 1, keepdim: true });
    const std = sqrt(variance(counts, { axis: 1, keepdim: true, correction: 0 }));
    const cv = div(std, m);
    const share = div(counts, sum(counts, { axis: 1, keepdim: true }));
    const shareStd = sqrt(variance(share, { axis: 1, keepdim: true, correction: 0 }));
    const dropFrac = div(dropped, assignments);
    return concat([counts, freq, cv, shareStd, dropFrac, add(tokens, 0)], 1);
  });
  for (const c of counters) c.dispose();
  const values = await packed.toArray();
  packed.dispose();
  const width = 2 * e + 4;
  return layers.map(([name], i) => {
    const row = Array.from(values.subarray(i * width, (i + 1) * width));
    return {
      name,
      tokensPerExpert: row.slice(0, e),
      activationFrequency: row.slice(e, 2 * e),
      loadCv: row[2 * e]!,
      normalizedLoadStd: row[2 * e + 1]!,
      droppedFraction: row[2 * e + 2]!,
      tokens: row[2 * e + 3]!,
    };
  });
}
