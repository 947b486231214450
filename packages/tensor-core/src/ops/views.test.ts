import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from './index.js';
import {
  expectClose,
  gradCheck,
  onEach,
  openTestDevices,
  rng,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const arange = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('views share storage and read correctly', () => {
  it('transpose, permute, slice and expand are views; contiguous copies', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const before = dev.memory().allocations;
      const [x] = onEach([dev], arange(24), [2, 3, 4]);
      const t = ops.permute(x!, [2, 0, 1]);
      const s = ops.slice(x!, [{ start: 1 }, { start: 0, end: 3, step: 2 }, { start: -2 }]);
      const e = ops.expand(ops.slice(x!, [{ end: 1 }, { end: 1 }]), [5, 2, 1, 4]);
      expect(dev.memory().allocations - before).toBe(1); // only x's own storage
      expect(t.shape).toEqual([4, 2, 3]);
      expect(await values(t)).toEqual([
        0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23,
      ]);
      expect(s.shape).toEqual([1, 2, 2]);
      expect(await values(s)).toEqual([14, 15, 22, 23]);
      expect(e.shape).toEqual([5, 2, 1, 4]);
      expect((await values(e)).slice(0, 8)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
      const c = ops.contiguous(t);
      expect(c.isContiguous).toBe(true);
      expect(await values(c)).toEqual(await values(t));
      expect(ops.reshape(c, [-1, 6]).shape).toEqual([4, 6]);
      expect(ops.squeeze(ops.unsqueeze(x!, 1), 1).shape).toEqual([2, 3, 4]);
      expect(ops.flatten(x!, 1).shape).toEqual([2, 12]);
    }
  });

  it('reshape of a non-contiguous view copies and keeps values', async () => {
    const [x] = onEach([d.gpu], arange(6), [2, 3]);
    const r = ops.reshape(ops.transpose(x!), [6]);
    expect(await values(r)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('gradients flow through views (finite differences) and match on WebGPU', async () => {
    const vals = Array.from(uniformValues(rng(3), 24, -1, 1));
    const f = (x: ops.TensorLike & object): ReturnType<typeof ops.mul> => {
      const t = x as Parameters<typeof ops.permute>[0];
      const v = ops.slice(ops.permute(t, [2, 0, 1]), [
        { start: 1, step: 2 },
        undefined,
        { start: 1 },
      ]);
      const e = ops.expand(ops.reshape(ops.contiguous(v), [2, 1, 4]), [2, 3, 4]);
      return ops.mul(e, ops.transpose(ops.reshape(t, [2, 4, 3]), 1, 2));
    };
    await gradCheck(d.ref, f, [{ values: vals, shape: [2, 3, 4] }]);
    const [g, r] = onEach([d.gpu, d.ref], vals, [2, 3, 4], 'f32', true);
    ops.sum(f(g!)).backward();
    ops.sum(f(r!)).backward();
    expectClose(await values(g!.grad!), await values(r!.grad!), { atol: 1e-5, rtol: 1e-5 }, 'grad');
  });

  it('rejects bad layouts with messages that name the problem', () => {
    const [x] = onEach([d.ref], arange(6), [2, 3]);
    expect(() => ops.reshape(x!, [4, 2])).toThrow(
      'reshape: cannot view 6 elements of shape [2,3] as [4,2]',
    );
    expect(() => ops.permute(x!, [0, 0])).toThrow(
      'permute: dims [0,0] must be a permutation of the 2 dims of shape [2,3]',
    );
    expect(() => ops.expand(x!, [2, 4])).toThrow(
      'expand: dim 1 of x has size 3; it can only expand from 1',
    );
    expect(() => ops.squeeze(x!, 0)).toThrow(
      'squeeze: axis 0 of shape [2,3] has size 2; expected 1',
    );
    expect(() => ops.transpose(x!, 0, 2)).toThrow(
      'transpose: dim1 2 is out of range for a tensor of rank 2',
    );
    expect(() => ops.slice(x!, [{ step: 0 }])).toThrow(
      'slice: step 0 on axis 0 must be a positive integer',
    );
  });
});
