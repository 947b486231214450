/**
 * A direct float64 MoE in plain TypeScript, looping over tokens and experts:
 * the oracle of this package's tests. It shares no code with the layer.
 */
import type { MoeConfig } from '../config.js';

/** Plain weights: gate [E][H], experts' [E][I][H] / [E][H][I], shared or null. */
export interface PlainMoeWeights {
  gate: number[][];
  bias: number[] | null;
  expertGate: number[][][];
  expertUp: number[][][];
  expertDown: number[][][];
  shared: { gate: number[][]; up: number[][]; down: number[][] } | null;
}

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * b[i]!, 0);
const silu = (v: number): number => v / (1 + Math.exp(-v));

function swiglu(x: number[], g: number[][], u: number[][], d: number[][]): number[] {
  const h = g.map((row, i) => silu(dot(row, x)) * dot(u[i]!, x));
  return d.map((row) => dot(row, h));
}

/** Experts chosen for one token: top groups first, then top-k inside them (ties: lower index). */
export function referenceSelect(choice: number[], c: MoeConfig): number[] {
  const per = choice.length / c.groups;
  const groupScores = Array.from({ length: c.groups }, (_, g) => {
    const vals = choice.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
    return c.groupScore === 'top2sum' && per > 1 ? vals[0]! + vals[1]! : vals[0]!;
  });
  const groupOrder = groupScores
    .map((s, g) => [s, g] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, c.groups > 1 ? c.topkGroups : c.groups)
    .map(([, g]) => g);
  return choice
    .map((s, j) => [s, j] as const)
    .filter(([, j]) => groupOrder.includes(Math.floor(j / per)))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, c.topK)
    .map(([, j]) => j);
}

/** Output rows [N][H] and the chosen experts [N][k] for tokens x [N][H]. */
export function referenceMoe(
  x: number[][],
  w: PlainMoeWeights,
  c: MoeConfig,
): { out: number[][]; chosen: number[][]; kept: boolean[][]; weights: number[][] } {
  const e = c.numExperts;
  const n = x.length;
  const capacity =
    c.capacityFactor === null
      ? Infinity
      : Math.max(1, Math.ceil((c.capacityFactor * n * c.topK) / e));
  const used = new Array<number>(e).fill(0);
  const chosen: number[][] = [];
  const kept: boolean[][] = [];
  const weights: number[][] = [];
  const out = x.map((xt) => {
    const logits = w.gate.map((row) => dot(row, xt));
    let scores: number[];
    if (c.scoring === 'softmax') {
      const m = Math.max(...logits);
      const ex = logits.map((l) => Math.exp(l - m));
      const z = ex.reduce((a, b) => a + b, 0);
      scores = ex.map((v) => v / z);
    } else scores = logits.map((l) => 1 / (1 + Math.exp(-l)));
    const choice = scores.map((s, j) => s + (w.bias?.[j] ?? 0));
    const sel = referenceSelect(choice, c);
    let ws = sel.map((j) => scores[j]!);
    if (c.normTopkProb && c.topK > 1) {
      const z = ws.reduce((a, b) => a + b, 0) + 1e-20;
      ws = ws.map((v) => v / z);
    }
    ws = ws.map((v) => v * c.routedScalingFactor);
    const y = new Array<number>(xt.length).fill(0);
    const keptHere: boolean[] = [];
    sel.forEach((j, r) => {
      const keep = used[j]! < capacity;
      keptHere.push(keep);
      if (!keep) return;
      used[j]!++;
      const ej = swiglu(xt, w.expertGate[j]!, w.expertUp[j]!, w.expertDown[j]!);
      ej.forEach((v, i) => (y[i]! += ws[r]! * v));
    });
    if (w.shared) {
      const s = swiglu(xt, w.shared.gate, w.shared.up, w.shared.down);
      s.forEach((v, i) => (y[i]! += v));
    }
    chosen.push(sel);
    kept.push(keptHere);
    weights.push(ws);
    return y;
  });
  return { out, chosen, kept, weights };
}
