import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, fromArray, scope, sum, mul } from '@fathom/tensor-core';
import { expectClose, openTestDevices, rng, type TestDevices } from '@fathom/tensor-core/testing';
import { FP8_FORMATS, type Fp8Format, roundToFp8 } from './format.js';
import { dequantizeFp8, fp8Matmul, quantizeFp8, type Fp8Scaling } from './fp8-tensor.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/** Oracle scale: the smallest 2^k, k ≥ −126, with amax ≤ max·2^k (1 for an all-zero block). */
function oracleScale(amax: number, format: Fp8Format): number {
  if (amax === 0) return 1;
  const max = FP8_FORMATS[format].max;
  let k = -126;
  while (amax > max * 2 ** k) k++;
  return 2 ** k;
}

function blockOf(scaling: Fp8Scaling, rows: number, cols: number): [number, number] {
  if (scaling === 'tensor') return [rows, cols];
  if (scaling === '1x128') return [1, 128];
  if (scaling === '128x128') return [128, 128];
  return [scaling[0], scaling[1]];
}

/** Values spread over many binades, so blocks get different scales. */
function data(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * cols }, (_, i) => {
    const row = Math.floor(i / cols);
    const mag = 2 ** (((row * 7 + Math.floor((i % cols) / 64) * 3) % 40) - 20);
    return Math.fround((r() * 2 - 1) * mag);
  });
}

function oracle(
  x: Float32Array,
  rows: number,
  cols: number,
  scaling: Fp8Scaling,
  format: Fp8Format,
) {
  const [br, bc] = blockOf(scaling, rows, cols);
  const sr = Math.ceil(rows / br);
  const sc = Math.ceil(cols / bc);
  const amax = new Float64Array(sr * sc);
  const blk = (i: number): number =>
    Math.floor(Math.floor(i / cols) / br) * sc + Math.floor((i % cols) / bc);
  x.forEach((v, i) => (amax[blk(i)] = Math.max(amax[blk(i)]!, Math.abs(v))));
  const scales = Array.from(amax, (a) => oracleScale(a, format));
  const values = Array.from(x, (v, i) => roundToFp8(v / scales[blk(i)]!, format) * scales[blk(i)]!);
  return { scales, values };
}

describe.each(['e4m3', 'e5m2'] as const)('quantizeFp8 %s', (format) => {
  const cases: [Fp8Scaling, number, number][] = [
    ['tensor', 33, 70],
    ['1x128', 5, 300],
    ['128x128', 130, 260],
    [[3, 5], 7, 11],
  ];
  it.each(cases)(
    'scaling %j on [%i, %i]: scales and round trip match the oracle on webgpu and reference',
    async (scaling, rows, cols) => {
      const x = data(rows, cols, rows + cols);
      const want = oracle(x, rows, cols, scaling, format);
      for (const device of [d.gpu, d.cpu]) {
        await scope(async () => {
          const t = fromArray(x, [rows, cols], { device });
          const q = quantizeFp8(t, { format, scaling });
          expect(Array.from(await q.scales.toArray())).toEqual(want.scales);
          const back = await dequantizeFp8(q).toArray();
          want.values.forEach((v, i) =>
            expect(back[i], `${device.name} element ${i} of ${x[i]}`).toBe(v),
          );
          expect(q.codes.size).toBe(Math.ceil((rows * cols) / 4));
          q.dispose();
        });
      }
    },
  );

  it('quantises bf16 and f16 inputs, and an all-zero block gets scale 1', async () => {
    for (const dtype of ['bf16', 'f16'] as const) {
      await scope(async () => {
        const vals = [0, 0, 0, 0, 1.5, -3, 0.25, 100];
        const t = fromArray(vals, [2, 4], { device: d.gpu, dtype });
        const q = quantizeFp8(t, { format, scaling: [1, 4] });
        expect(Array.from(await q.scales.toArray())).toEqual([1, oracleScale(100, format)]);
        const back = Array.from(await dequantizeFp8(q).toArray());
        const s = oracleScale(100, format);
        expect(back).toEqual(vals.map((v, i) => (i < 4 ? 0 : roundToFp8(v / s, format) * s)));
        q.dispose();
      });
    }
  });
});

describe('fp8Matmul', () => {
  it('matches x · dequant(W)ᵀ in f64 and its gradient in x, on webgpu and reference', async () => {
    const [m, n, k] = [37, 45, 300];
    const xv = data(m, k, 1).map((v) => Math.fround(Math.max(-4, Math.min(4, v))));
    const wv = data(n, k, 2);
    const gv = data(m, n, 3).map((v) => Math.fround(Math.max(-1, Math.min(1, v))));
    const want = oracle(wv, n, k, '128x128', 'e4m3').values;
    const y = new Float64Array(m * n);
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let acc = 0;
        for (let t = 0; t < k; t++) acc += xv[r * k + t]! * want[c * k + t]!;
        y[r * n + c] = acc;
      }
    const dx = new Float64Array(m * k);
    for (let r = 0; r < m; r++)
      for (let t = 0; t < k; t++) {
        let acc = 0;
        for (let c = 0; c < n; c++) acc += gv[r * n + c]! * want[c * k + t]!;
        dx[r * k + t] = acc;
      }
    const scaleOfY = Math.max(...Array.from(y, Math.abs));
    for (const device of [d.gpu, d.cpu]) {
      await scope(async () => {
        const w = quantizeFp8(fromArray(wv, [n, k], { device }), {
          format: 'e4m3',
          scaling: '128x128',
        });
        const x = fromArray(xv, [m, k], { device, requiresGrad: true });
        const out = fp8Matmul(x, w);
        expect(out.shape).toEqual([m, n]);
        expectClose(
          await out.toArray(),
          y,
          { atol: 1e-5 * scaleOfY, rtol: 1e-5 },
          `${device.name} y`,
        );
        const loss = sum(mul(out, fromArray(gv, [m, n], { device })));
        loss.backward();
        expectClose(await x.grad!.toArray(), dx, { atol: 1e-4, rtol: 1e-4 }, `${device.name} dx`);
        w.dispose();
        x.dispose();
      });
    }
  });

  it('keeps bf16 inputs bf16 and reads batched inputs', async () => {
    await scope(async () => {
      const w = quantizeFp8(fromArray(data(8, 16, 4), [8, 16], { device: d.gpu }), {
        scaling: '1x128',
      });
      const x = fromArray(data(6, 16, 5), [2, 3, 16], { device: d.gpu, dtype: 'bf16' });
      const y = fp8Matmul(x, w);
      expect(y.shape).toEqual([2, 3, 8]);
      expect(y.dtype).toBe('bf16');
      w.dispose();
    });
  });

  it('names the argument in errors', async () => {
    await scope(async () => {
      const device: Device = d.gpu;
      const w = quantizeFp8(fromArray(data(8, 16, 4), [8, 16], { device }));
      expect(() => fp8Matmul(fromArray([1, 2, 3], [1, 3], { device }), w)).toThrow(
        /fp8Matmul: x has shape \[1,3\]; expected its last dim to be 16/,
      );
      expect(() => quantizeFp8(fromArray([1], [1], { device, dtype: 'i32' }))).toThrow(
        /quantizeFp8: x has dtype i32/,
      );
      expect(() => quantizeFp8(fromArray([1], [1], { device }), { scaling: [0, 2] })).toThrow(
        /options.scaling/,
      );
      expect(() =>
        quantizeFp8(fromArray([1], [1], { device }), { format: 'e3m4' as never }),
      ).toThrow(/expected 'e4m3' or 'e5m2'/);
      w.dispose();
    });
  });

  it('leaks nothing', async () => {
    const before = d.gpu.memory();
    await scope(async () => {
      const w = quantizeFp8(fromArray(data(8, 16, 4), [8, 16], { device: d.gpu }));
      const x = fromArray(data(4, 16, 5), [4, 16], { device: d.gpu, requiresGrad: true });
      sum(fp8Matmul(x, w)).backward();
      await x.grad!.toArray();
      w.dispose();
      x.dispose();
    });
    const after = d.gpu.memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.liveBytes).toBe(before.liveBytes);
  });
});
