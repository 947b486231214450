import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, add, executeInPlace, fromArray, noGrad } from '@fathom/tensor-core';
import { rng } from '@fathom/tensor-core/testing';
import type { Linear } from '@fathom/nn-layers';
import { CausalLm } from '@fathom/nn-layers';
import { MagnitudePruner, magnitudeMask, polynomialSparsity, weightSparsity } from './prune.js';
import { quantizeModel } from './quantize-model.js';
import type { QuantLinear } from './quant-linear.js';

const vals = (seed: number, n: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
};

describe('magnitudeMask', () => {
  it('unstructured prunes exactly the smallest magnitudes', () => {
    const v = vals(1, 7 * 13);
    const mask = magnitudeMask(v, 7, 13, { kind: 'unstructured' }, 0.6);
    const pruned = v.filter((_, i) => mask[i] === 0).map(Math.abs);
    const kept = v.filter((_, i) => mask[i] === 1).map(Math.abs);
    expect(pruned.length).toBe(Math.round(0.6 * 91));
    expect(Math.max(...pruned)).toBeLessThanOrEqual(Math.min(...kept));
  });
  for (const [n, m] of [
    [2, 4],
    [1, 4],
    [4, 8],
  ] as const)
    it(`${n}:${m} keeps the ${n} largest of every ${m} along rows (ragged end too)`, () => {
      const [rows, cols] = [5, 18];
      const v = vals(n * 10 + m, rows * cols);
      const mask = magnitudeMask(v, rows, cols, { kind: 'n:m', n, m });
      for (let r = 0; r < rows; r++)
        for (let c0 = 0; c0 < cols; c0 += m) {
          const idx = Array.from({ length: Math.min(m, cols - c0) }, (_, j) => r * cols + c0 + j);
          const kept = idx.filter((i) => mask[i] === 1);
          expect(kept.length).toBe(Math.min(n, idx.length));
          const minKept = Math.min(...kept.map((i) => Math.abs(v[i]!)));
          for (const i of idx)
            if (mask[i] === 0) expect(Math.abs(v[i]!)).toBeLessThanOrEqual(minKept);
        }
    });
  it('names bad arguments', () => {
    expect(() => magnitudeMask([1, 2], 1, 2, { kind: 'n:m', n: 3, m: 2 })).toThrow(/0 ≤ n ≤ m/);
    expect(() => magnitudeMask([1, 2], 1, 2, { kind: 'unstructured' }, 1.5)).toThrow(
      /sparsity is 1.5/,
    );
    expect(() => polynomialSparsity({ final: 0.5, begin: 5, end: 5 })).toThrow(/end is 5/);
  });
});

describe('polynomialSparsity', () => {
  it('follows Zhu & Gupta’s cubic ramp', () => {
    const s = polynomialSparsity({ initial: 0.1, final: 0.8, begin: 10, end: 30 });
    expect(s(0)).toBe(0.1);
    expect(s(10)).toBe(0.1);
    expect(s(20)).toBeCloseTo(0.8 + (0.1 - 0.8) * 0.5 ** 3, 12);
    expect(s(30)).toBe(0.8);
    expect(s(99)).toBe(0.8);
  });
});

describe('MagnitudePruner', () => {
  let device: Device;
  beforeAll(async () => {
    device = await Device.open({ backend: 'cpu' });
  });
  afterAll(() => device.close());
  const config = {
    vocabSize: 20,
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 1,
    numHeads: 2,
    maxPositionEmbeddings: 16,
    seed: 2,
  };

  it('reaches the scheduled sparsity, keeps pruned weights at zero, and survives int4 quantisation', async () => {
    const model = new CausalLm(config, { device });
    const pruner = new MagnitudePruner(model, {
      pattern: { kind: 'unstructured' },
      schedule: polynomialSparsity({ final: 0.5, begin: 0, end: 4 }),
    });
    expect(pruner.paths).not.toContain('lm_head');
    const targets = pruner.paths;
    for (let t = 0; t <= 4; t++) {
      const s = await pruner.step(t);
      // Every targeted layer has exactly round(s · size) zeros (random init has none of its own).
      for (const path of targets) {
        const l = model.getSubmodule(path) as Linear;
        const v = await l.weight.toArray();
        expect(v.filter((x) => x === 0).length).toBe(Math.round(s * v.length));
      }
    }
    expect(await weightSparsity(model, targets)).toBeCloseTo(0.5, 6);
    // An update that touches pruned weights is undone by apply().
    const q = model.getSubmodule(targets[0]!) as Linear;
    noGrad(() => {
      const ones = fromArray(new Float32Array(q.weight.size).fill(0.01), q.weight.shape, {
        device,
      });
      const moved = add(q.weight, ones);
      executeInPlace('copy', [moved], [q.weight], {});
      moved.dispose();
      ones.dispose();
    });
    pruner.apply();
    expect(await weightSparsity(model, targets)).toBeCloseTo(0.5, 6);
    pruner.dispose();
    // Integer zero-points keep pruned zeros exact through int4.
    const before = Array.from(
      await (model.getSubmodule(targets[1]!) as Linear).weight.toArray(),
      (x) => x === 0,
    );
    await quantizeModel(model, { scheme: { kind: 'int4', groupSize: 32 }, targets: [targets[1]!] });
    const ql = model.getSubmodule(targets[1]!) as QuantLinear;
    const { dequantizeMatrix } = await import('./quantize.js');
    const deq = dequantizeMatrix(await ql.weight.download());
    before.forEach((z, i) => z && expect(deq[i]).toBe(0));
    model.dispose();
  });

  it('applies 2:4 from its start step', async () => {
    const model = new CausalLm(config, { device });
    const pruner = new MagnitudePruner(model, { pattern: { kind: 'n:m', n: 2, m: 4 }, nmFrom: 2 });
    expect(await pruner.step(0)).toBe(0);
    expect(await weightSparsity(model, pruner.paths)).toBe(0);
    expect(await pruner.step(2)).toBe(0.5);
    expect(await weightSparsity(model, pruner.paths)).toBe(0.5);
    pruner.dispose();
    model.dispose();
  });
});
