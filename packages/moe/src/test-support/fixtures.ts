/** Random weights and inputs shared by the tests, as plain arrays and as tensors. */
import { type Device, type Tensor, fromArray } from '@fathom/tensor-core';
import { rng } from '@fathom/tensor-core/testing';
import type { MoeConfig } from '../config.js';
import type { MoeWeights } from '../forward.js';
import type { PlainMoeWeights } from './reference.js';

/** A [rows][cols] matrix of uniform values in [-scale, scale]. */
export function randomMatrix(
  rand: () => number,
  rows: number,
  cols: number,
  scale: number,
): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => (2 * rand() - 1) * scale),
  );
}

/** Random plain weights for a config and hidden size. */
export function randomWeights(
  c: MoeConfig,
  hidden: number,
  seed: number,
  gateScale = 1,
): PlainMoeWeights {
  const rand = rng(seed);
  const i = c.expertIntermediateSize;
  const e = c.numExperts;
  const si = c.numSharedExperts * i;
  return {
    gate: randomMatrix(rand, e, hidden, gateScale),
    bias: null,
    expertGate: Array.from({ length: e }, () => randomMatrix(rand, i, hidden, 0.5)),
    expertUp: Array.from({ length: e }, () => randomMatrix(rand, i, hidden, 0.5)),
    expertDown: Array.from({ length: e }, () => randomMatrix(rand, hidden, i, 0.5)),
    shared:
      si > 0
        ? {
            gate: randomMatrix(rand, si, hidden, 0.5),
            up: randomMatrix(rand, si, hidden, 0.5),
            down: randomMatrix(rand, hidden, si, 0.5),
          }
        : null,
  };
}

const flat = (m: readonly (readonly number[])[] | readonly number[][][]): number[] =>
  (m as unknown[]).flat(2) as number[];

/** The same weights as tensors on `device` (leaves that require grad when asked). */
export function weightTensors(
  w: PlainMoeWeights,
  device: Device,
  requiresGrad = false,
): MoeWeights {
  const t = (v: number[], shape: number[]): Tensor => fromArray(v, shape, { device, requiresGrad });
  const e = w.gate.length;
  const h = w.gate[0]!.length;
  const i = w.expertGate[0]!.length;
  return {
    gate: t(flat(w.gate), [e, h]),
    bias: w.bias ? fromArray(w.bias, [e], { device }) : null,
    expertGate: t(flat(w.expertGate), [e, i, h]),
    expertUp: t(flat(w.expertUp), [e, i, h]),
    expertDown: t(flat(w.expertDown), [e, h, i]),
    shared: w.shared
      ? {
          gate: t(flat(w.shared.gate), [w.shared.gate.length, h]),
          up: t(flat(w.shared.up), [w.shared.up.length, h]),
          down: t(flat(w.shared.down), [h, w.shared.up.length]),
        }
      : null,
  };
}
