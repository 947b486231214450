import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scope } from '../memory/scope.js';
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

describe('linear (fused bias and activation)', () => {
  it('equals act(x·wᵀ + b) with its gradients on the float64 reference', async () => {
    await compareFusedToComposition(
      d.ref,
      (x, w, b) => ops.linear(x, w, b, { activation: 'gelu_tanh' }),
      (x, w, b) => ops.gelu(ops.add(ops.matmul(x, w, { transB: true }), b), 'tanh'),
      [[2, 3, 5], [4, 5], [4]],
      1,
    );
    await compareFusedToComposition(
      d.ref,
      (x, w) => ops.linear(x, w),
      (x, w) => ops.matmul(x, w, { transB: true }),
      [
        [3, 5],
        [6, 5],
      ],
      2,
    );
  });

  it('passes a finite-difference gradient check', async () => {
    const rand = rng(3);
    await gradCheck(d.ref, (x, w, b) => ops.linear(x!, w!, b!, { activation: 'silu' }), [
      { values: uniformValues(rand, 6), shape: [2, 3] },
      { values: uniformValues(rand, 12), shape: [4, 3] },
      { values: uniformValues(rand, 4), shape: [4] },
    ]);
  });

  for (const activation of ['relu', 'gelu', 'gelu_tanh', 'silu', 'sigmoid', 'tanh'] as const) {
    it(`matches the reference on WebGPU with ${activation} (fused epilogue and fallback)`, async () => {
      // N = 12: the direct kernel's epilogue; N = 7: shared-memory product plus epilogue pass.
      await compareWithGrads(
        d,
        (x, w, b) => ops.linear(x, w, b, { activation }),
        [[2, 9, 20], [12, 20], [12]],
        10,
      );
      await compareWithGrads(
        d,
        (x, w, b) => ops.linear(x, w, b, { activation }),
        [[13, 6], [7, 6], [7]],
        11,
      );
    });
  }

  it('matches without bias or activation, and with a non-contiguous x', async () => {
    await compareWithGrads(
      d,
      (x, w) => ops.linear(ops.transpose(x), w),
      [
        [16, 5],
        [8, 16],
      ],
      12,
    );
  });

  it('rejects bad shapes and activations, naming the argument', () => {
    scope(() => {
      const x = ops.zeros([2, 3], { device: d.ref });
      const w = ops.zeros([4, 3], { device: d.ref });
      expect(() => ops.linear(x, ops.zeros([4, 2], { device: d.ref }))).toThrow(
        /linear: x has shape \[2,3\]; expected its last dim to be 2/,
      );
      expect(() => ops.linear(x, w, ops.zeros([3], { device: d.ref }))).toThrow(
        /linear: bias has shape \[3\]; expected \[4\]/,
      );
      expect(() => ops.linear(x, w, null, { activation: 'swish' as never })).toThrow(
        /linear: activation 'swish' is unknown/,
      );
    });
  });
});
