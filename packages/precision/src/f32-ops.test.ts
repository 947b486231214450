/**
 * The ops a policy never lowers: tensor-core's softmax, norms, cross-entropy and
 * reductions accumulate in f32 whatever their input dtype and round only their
 * result. Each check below would fail if the accumulation ran in bf16.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crossEntropy,
  fromArray,
  mean,
  rmsNorm,
  roundToBf16,
  scope,
  softmax,
  sum,
} from '@fathom/tensor-core';
import { openTestDevices, rng, type TestDevices } from '@fathom/tensor-core/testing';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const BF16_ULP_REL = 2 ** -8;

describe('ops that accumulate in f32 on bf16 inputs (webgpu)', () => {
  it('sum and mean of 1024 ones are exact (a bf16 accumulator stalls at 256)', async () => {
    await scope(async () => {
      const x = fromArray(new Float32Array(1024).fill(1), [1024], { device: d.gpu, dtype: 'bf16' });
      expect(await sum(x).item()).toBe(1024);
      expect(await mean(x).item()).toBe(1);
      // And 1 + 4095·2^-12 ≈ 2: every small addend would vanish against 1 in bf16.
      const y = fromArray([1, ...new Array<number>(4095).fill(2 ** -12)], [4096], {
        device: d.gpu,
        dtype: 'bf16',
      });
      expect(await sum(y).item()).toBe(roundToBf16(1 + 4095 * 2 ** -12));
    });
  });

  it('softmax of bf16 logits is the f64 softmax rounded once to bf16', async () => {
    const r = rng(4);
    const vals = Array.from({ length: 3 * 1000 }, () => roundToBf16((r() - 0.5) * 8));
    const got = await scope(() =>
      softmax(fromArray(vals, [3, 1000], { device: d.gpu, dtype: 'bf16' }), -1).toArray(),
    );
    for (let row = 0; row < 3; row++) {
      const xs = vals.slice(row * 1000, row * 1000 + 1000);
      const m = Math.max(...xs);
      const z = xs.reduce((a, v) => a + Math.exp(v - m), 0);
      xs.forEach((v, i) => {
        const want = Math.exp(v - m) / z;
        expect(Math.abs(got[row * 1000 + i]! - want)).toBeLessThanOrEqual(want * BF16_ULP_REL);
      });
    }
  });

  it('rmsNorm over 4096 bf16 ones gives ones (bf16 sums of squares would give 4)', async () => {
    const got = await scope(() => {
      const x = fromArray(new Float32Array(4096).fill(1), [1, 4096], {
        device: d.gpu,
        dtype: 'bf16',
      });
      return rmsNorm(x, null, { eps: 0 }).toArray();
    });
    expect(Array.from(got).every((v) => v === 1)).toBe(true);
  });

  it('cross-entropy of bf16 logits over 2048 classes matches f64 to bf16 rounding of the result', async () => {
    const r = rng(8);
    const vals = Array.from({ length: 4 * 2048 }, () => roundToBf16((r() - 0.5) * 4));
    const targets = [5, 100, 2047, 0];
    const got = await scope(() =>
      crossEntropy(
        fromArray(vals, [4, 2048], { device: d.gpu, dtype: 'bf16' }),
        fromArray(targets, [4], { device: d.gpu, dtype: 'i32' }),
      ).item(),
    );
    let want = 0;
    targets.forEach((t, row) => {
      const xs = vals.slice(row * 2048, row * 2048 + 2048);
      const m = Math.max(...xs);
      want += m + Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0)) - xs[t]!;
    });
    want /= 4;
    expect(Math.abs(got - want)).toBeLessThanOrEqual(want * BF16_ULP_REL);
  });
});
