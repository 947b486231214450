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

describe('swiglu', () => {
  it('equals silu(gate)·up with its gradients (float64 reference)', async () => {
    await compareFusedToComposition(
      d.ref,
      (g, u) => ops.swiglu(g, u),
      (g, u) => ops.mul(ops.silu(g), u),
      [
        [3, 7],
        [3, 7],
      ],
      1,
    );
  });

  it('passes a finite-difference gradient check', async () => {
    const rand = rng(2);
    await gradCheck(d.ref, (g, u) => ops.swiglu(g!, u!), [
      { values: uniformValues(rand, 10, -3, 3), shape: [2, 5] },
      { values: uniformValues(rand, 10), shape: [2, 5] },
    ]);
  });

  it('matches the reference on WebGPU, forward and backward, odd sizes and a transposed view', async () => {
    await compareWithGrads(
      d,
      (g, u) => ops.swiglu(g, u),
      [
        [5, 67],
        [5, 67],
      ],
      3,
    );
    await compareWithGrads(
      d,
      (g, u) => ops.swiglu(ops.transpose(g), u),
      [
        [9, 4],
        [4, 9],
      ],
      4,
    );
  });

  it('rejects mismatched shapes, naming the argument', () => {
    scope(() => {
      const g = ops.zeros([2, 3], { device: d.ref });
      const u = ops.zeros([3, 2], { device: d.ref });
      expect(() => ops.swiglu(g, u)).toThrow(
        /swiglu: up has shape \[3,2\]; expected gate's shape \[2,3\]/,
      );
    });
  });
});
