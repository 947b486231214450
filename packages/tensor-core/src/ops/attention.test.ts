import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import {
  gradCheck,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '../test-utils/index.js';
import { compareFusedToComposition, compareWithGrads } from './fused-test-support.js';
import * as ops from './index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/** The unfused composition: scores, mask, softmax, product (GQA by repeating k/v heads). */
function unfused(q: Tensor, k: Tensor, v: Tensor, causal = true, kvOffset?: number): Tensor {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const [, hkv, S] = k.shape as [number, number, number, number];
  const rep = (x: Tensor): Tensor =>
    hkv === H
      ? x
      : ops.reshape(ops.expand(ops.unsqueeze(x, 2), [B, hkv, H / hkv, S, D]), [B, H, S, D]);
  const scores = ops.mul(ops.matmul(q, rep(k), { transB: true }), 1 / Math.sqrt(D));
  let masked = scores;
  if (causal) {
    const off = kvOffset ?? S - T;
    const t = ops.reshape(ops.arange(0, T, 1, { device: q.device }), [T, 1]);
    const s = ops.reshape(ops.arange(0, S, 1, { device: q.device }), [1, S]);
    const visible = ops.le(s, ops.add(t, off));
    masked = ops.where(visible, scores, ops.full([], -1e30, { device: q.device }));
  }
  return ops.matmul(ops.softmax(masked, -1), rep(v));
}

describe('causalAttention (flash-style, online softmax)', () => {
  it('equals the unfused composition with its gradients (float64 reference), MHA and GQA', async () => {
    await compareFusedToComposition(
      d.ref,
      (q, k, v) => ops.causalAttention(q, k, v),
      (q, k, v) => unfused(q, k, v),
      [
        [2, 2, 5, 3],
        [2, 2, 5, 3],
        [2, 2, 5, 3],
      ],
      1,
    );
    await compareFusedToComposition(
      d.ref,
      (q, k, v) => ops.causalAttention(q, k, v, { kvOffset: 2 }),
      (q, k, v) => unfused(q, k, v, true, 2),
      [
        [1, 4, 3, 4],
        [1, 2, 6, 4],
        [1, 2, 6, 4],
      ],
      2,
    );
    await compareFusedToComposition(
      d.ref,
      (q, k, v) => ops.causalAttention(q, k, v, { causal: false }),
      (q, k, v) => unfused(q, k, v, false),
      [
        [1, 2, 4, 2],
        [1, 1, 3, 2],
        [1, 1, 3, 2],
      ],
      3,
    );
  });

  it('passes a finite-difference gradient check', async () => {
    const rand = rng(4);
    const shape = [1, 2, 3, 2];
    await gradCheck(d.ref, (q, k, v) => ops.causalAttention(q!, k!, v!), [
      { values: uniformValues(rand, 12), shape },
      { values: uniformValues(rand, 6), shape: [1, 1, 3, 2] },
      { values: uniformValues(rand, 6), shape: [1, 1, 3, 2] },
    ]);
  });

  it('matches the reference on WebGPU: odd sizes, GQA, head dim not a multiple of 4, views', async () => {
    await compareWithGrads(
      d,
      (q, k, v) => ops.causalAttention(q, k, v),
      [
        [2, 4, 37, 8],
        [2, 2, 37, 8],
        [2, 2, 37, 8],
      ],
      5,
    );
    await compareWithGrads(
      d,
      (q, k, v) => ops.causalAttention(q, k, v, { kvOffset: 3, scale: 0.3 }),
      [
        [1, 3, 6, 5],
        [1, 1, 9, 5],
        [1, 1, 9, 5],
      ],
      6,
    );
    // q as a transposed view of [B, T, H, d] (what a model's projections give).
    await compareWithGrads(
      d,
      (q, k, v) => ops.causalAttention(ops.transpose(q, 1, 2), k, v, { causal: false }),
      [
        [1, 10, 2, 4],
        [1, 2, 7, 4],
        [1, 2, 7, 4],
      ],
      7,
    );
  });

  it('never stores the [T, S] scores: forward+backward peak is below the unfused one', async () => {
    const peak = async (device: Device, fused: boolean): Promise<number> =>
      scope(async () => {
        const rand = rng(8);
        const shape = [1, 2, 128, 16];
        const mk = (): Tensor =>
          ops.fromArray(uniformValues(rand, 4096), shape, { device, requiresGrad: true });
        const [q, k, v] = [mk(), mk(), mk()];
        device.resetPeak();
        const before = device.memory().liveBytes;
        const y = fused ? ops.causalAttention(q, k, v) : unfused(q, k, v);
        ops.sum(y).backward();
        await q.grad!.toArray();
        return device.memory().peakBytes - before;
      });
    const f = await peak(d.gpu, true);
    const u = await peak(d.gpu, false);
    // Unfused holds several 2·128·128 f32 buffers (128 KiB each); fused only O(T·d) rows.
    expect(f).toBeLessThan(u / 4);
  });

  it('rejects bad shapes, naming the argument', () => {
    scope(() => {
      const q = ops.zeros([1, 3, 4, 2], { device: d.ref });
      const k = ops.zeros([1, 2, 4, 2], { device: d.ref });
      expect(() => ops.causalAttention(q, k, k)).toThrow(
        /causalAttention: k has 2 heads; expected a divisor of q's 3 heads/,
      );
      expect(() => ops.causalAttention(q, ops.zeros([1, 3, 4, 5], { device: d.ref }), k)).toThrow(
        /causalAttention: k has shape \[1,3,4,5\]/,
      );
      expect(() => ops.causalAttention(ops.zeros([3, 4, 2], { device: d.ref }), k, k)).toThrow(
        /causalAttention: q has shape \[3,4,2\]; expected rank 4/,
      );
    });
  });
});
