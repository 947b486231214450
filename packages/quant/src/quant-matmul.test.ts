import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, type Tensor, fromArray, matmul, noGrad } from '@fathom/tensor-core';
import {
  type TestDevices,
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
} from '@fathom/tensor-core/testing';
import { QuantWeight, dequantize, quantMatmul } from './quant-weight.js';
import { dequantizeMatrix, quantizeMatrix } from './quantize.js';
import type { QuantScheme } from './scheme.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const SCHEMES: QuantScheme[] = [
  { kind: 'int8', granularity: 'tensor' },
  { kind: 'int8', granularity: 'channel' },
  { kind: 'int4', groupSize: 32 },
  { kind: 'int4', groupSize: 128 },
  { kind: 'mixed', groupSize: 32 },
];

const vals = (seed: number, n: number): Float64Array => {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => 2 * r() - 1);
};

describe('quantised matmul', () => {
  const [m, k, n] = [7, 67, 19];
  for (const scheme of SCHEMES)
    it(`${JSON.stringify(scheme)}: equals dequantise-then-matmul; WebGPU and wasm match`, async () => {
      const wv = vals(1, n * k);
      const xv = vals(2, m * k);
      const q = quantizeMatrix(wv, n, k, scheme);
      const deq = dequantizeMatrix(q);
      // Oracle: x · deq(W)ᵀ in float64, written out here.
      const expected = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let t = 0; t < k; t++) acc += xv[i * k + t]! * deq[j * k + t]!;
          expected[i * n + j] = acc;
        }
      const run = async (device: Device): Promise<Float32Array | Float64Array> => {
        const before = device.memory().liveTensors;
        const w = QuantWeight.upload(q, device);
        const x = fromArray(xv, [m, k], { device });
        const y = quantMatmul(x, w);
        expect(y.shape).toEqual([m, n]);
        const out = (await y.toArray()) as Float32Array;
        for (const t of [x, y]) t.dispose();
        w.dispose();
        expect(device.memory().liveTensors).toBe(before);
        return out;
      };
      expectClose(await run(devs.ref), expected, { atol: 1e-12, rtol: 1e-12 }, 'ref');
      // tensor-core's matmul of the dequantised weight on the reference backend agrees too.
      const viaMatmul = noGrad(() =>
        matmul(
          fromArray(xv, [m, k], { device: devs.ref }),
          fromArray(deq, [n, k], { device: devs.ref }),
          {
            transB: true,
          },
        ),
      );
      expectClose(await viaMatmul.toArray(), expected, { atol: 1e-12, rtol: 1e-12 }, 'matmul');
      expectClose(await run(devs.gpu), expected, { atol: 1e-4, rtol: 1e-4 }, 'webgpu');
      expectClose(await run(devs.wasm), expected, { atol: 1e-4, rtol: 1e-4 }, 'wasm');
    });

  it('takes leading dims and checks the input width', async () => {
    const q = quantizeMatrix(vals(3, 8 * 40), 8, 40, { kind: 'int4', groupSize: 32 });
    const w = QuantWeight.upload(q, devs.gpu);
    const x = fromArray(vals(4, 2 * 3 * 40), [2, 3, 40], { device: devs.gpu });
    const y = quantMatmul(x, w);
    expect(y.shape).toEqual([2, 3, 8]);
    const bad = fromArray(vals(4, 6), [2, 3], { device: devs.gpu });
    expect(() => quantMatmul(bad, w)).toThrow(/x has shape \[2,3\]; expected last dim 40/);
    for (const t of [x, y, bad]) t.dispose();
    w.dispose();
  });

  it('round trips the device copy (download equals the host matrix)', async () => {
    const q = quantizeMatrix(vals(6, 9 * 33), 9, 33, { kind: 'mixed', groupSize: 32 });
    const w = QuantWeight.upload(q, devs.gpu);
    const back = await w.download();
    w.dispose();
    expect(back.parts.map((p) => Array.from(p.codes))).toEqual(
      q.parts.map((p) => Array.from(p.codes)),
    );
    expect(Array.from(dequantizeMatrix(back))).toEqual(Array.from(dequantizeMatrix(q)));
  });

  it('dequantize decodes on every backend; x gets gradients (checked by finite differences)', async () => {
    const [n, k] = [6, 45];
    const q = quantizeMatrix(vals(7, n * k), n, k, { kind: 'mixed', groupSize: 32 });
    const expected = dequantizeMatrix(q);
    for (const device of [devs.ref, devs.gpu, devs.wasm]) {
      const before = device.memory().liveTensors;
      const w = QuantWeight.upload(q, device);
      const d = dequantize(w);
      expectClose(await d.toArray(), expected, { atol: 1e-6, rtol: 1e-6 }, device.name);
      d.dispose();
      w.dispose();
      expect(device.memory().liveTensors).toBe(before);
    }
    const w = QuantWeight.upload(q, devs.ref);
    await gradCheck(devs.ref, (x: Tensor) => quantMatmul(x, w), [
      { values: vals(8, 2 * 3 * k), shape: [2, 3, k] },
    ]);
    w.dispose();
  });
});
