import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, fromArray, mul, sum } from '@fathom/tensor-core';
import { type TestDevices, expectClose, openTestDevices, rng } from '@fathom/tensor-core/testing';
import { fakeQuantize, weightGrid } from './fake-quant.js';
import { dequantizeMatrix, quantizeMatrix } from './quantize.js';
import type { QuantScheme } from './scheme.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const vals = (seed: number, n: number, scale = 1): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => scale * (2 * r() - 1));
};

describe('fakeQuantize', () => {
  // A fixed int4 grid over [2, 6] in blocks of 1×3: scales and zero-points chosen so that
  // some values fall outside [qmin, qmax] and are clipped.
  const scales = [0.1, 0.25, 0.05, 0.2];
  const zeros = [8, 3, 7, 0];
  const x = vals(1, 12, 2.5);
  const oracle = (): { y: number[]; inside: number[] } => {
    const y: number[] = [];
    const inside: number[] = [];
    x.forEach((v, i) => {
      const s = scales[Math.floor(i / 6) * 2 + Math.floor((i % 6) / 3)]!;
      const z = zeros[Math.floor(i / 6) * 2 + Math.floor((i % 6) / 3)]!;
      const q = Math.floor(v / s + 0.5) + z;
      const qc = Math.min(15, Math.max(0, q));
      y.push((qc - z) * s);
      inside.push(q === qc ? 1 : 0);
    });
    return { y, inside };
  };

  it('forward matches the oracle on every backend and clips some values', async () => {
    const { y, inside } = oracle();
    expect(inside).toContain(0);
    expect(inside).toContain(1);
    for (const device of [devs.ref, devs.cpu, devs.gpu, devs.wasm]) {
      const before = device.memory().liveTensors;
      const grid = {
        scales: fromArray(scales, [4], { device }),
        zeros: fromArray(zeros, [4], { device }),
        rowBlock: 1,
        groupSize: 3,
        qmin: 0,
        qmax: 15,
      };
      const xt = fromArray(x, [2, 6], { device });
      const out = fakeQuantize(xt, grid);
      expectClose(await out.toArray(), y, { atol: 1e-6, rtol: 1e-6 }, device.name);
      for (const t of [out, xt, grid.scales, grid.zeros]) t.dispose();
      expect(device.memory().liveTensors).toBe(before);
    }
  });

  it('straight-through gradient: identity inside the range, zero where clipped', async () => {
    const { inside } = oracle();
    for (const device of [devs.ref, devs.gpu]) {
      const grid = {
        scales: fromArray(scales, [4], { device }),
        zeros: fromArray(zeros, [4], { device }),
        rowBlock: 1,
        groupSize: 3,
        qmin: 0,
        qmax: 15,
      };
      const xt = fromArray(x, [2, 6], { device, requiresGrad: true });
      const weights = vals(2, 12);
      const wt = fromArray(weights, [2, 6], { device });
      const y = fakeQuantize(xt, grid);
      const loss = sum(mul(y, wt) as Tensor);
      loss.backward();
      const expected = weights.map((w, i) => w * inside[i]!);
      expectClose(
        await xt.grad!.toArray(),
        expected,
        { atol: 1e-6, rtol: 1e-6 },
        `${device.name} grad`,
      );
      for (const t of [xt, wt, y, loss, grid.scales, grid.zeros]) t.dispose();
    }
  });

  for (const scheme of [
    { kind: 'int8', granularity: 'tensor' },
    { kind: 'int8', granularity: 'channel' },
    { kind: 'int4', groupSize: 32 },
  ] as QuantScheme[])
    it(`weightGrid reproduces quantizeMatrix (${JSON.stringify(scheme)})`, async () => {
      const [rows, cols] = [6, 70];
      const w = vals(3, rows * cols, 0.3);
      const host = dequantizeMatrix(quantizeMatrix(w, rows, cols, scheme));
      for (const device of [devs.cpu, devs.gpu]) {
        const wt = fromArray(w, [rows, cols], { device });
        const grid = weightGrid(wt, scheme);
        const out = await fakeQuantize(wt, grid).toArray();
        // Scales agree to f32 rounding; a value on a rounding tie may land one code apart.
        const close = Array.from(out).filter((v, i) => Math.abs(v - host[i]!) < 1e-6).length;
        expect(close / out.length).toBeGreaterThan(0.99);
        for (const t of [wt, grid.scales, grid.zeros]) t.dispose();
      }
    });

  it('names bad grids', () => {
    const xt = fromArray(vals(1, 6), [2, 3], { device: devs.cpu });
    const grid = {
      scales: fromArray([1], [1], { device: devs.cpu }),
      zeros: fromArray([0], [1], { device: devs.cpu }),
      rowBlock: 1,
      groupSize: 3,
      qmin: 0,
      qmax: 15,
    };
    expect(() => fakeQuantize(xt, grid)).toThrow(
      /grid.scales is f32 with 1 values; expected f32 with 2/,
    );
    expect(() => weightGrid(xt, { kind: 'mixed', groupSize: 32 })).toThrow(/'mixed'/);
  });
});
