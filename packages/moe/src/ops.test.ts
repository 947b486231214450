import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, fromArray, noGrad } from '@fathom/tensor-core';
import { type TestDevices, gradCheck, openTestDevices, rng } from '@fathom/tensor-core/testing';
import { combineRows, dispatchPlan, gatherRows, groupedMatmul, routeTopK } from './ops.js';

let devs: TestDevices;
beforeAll(async () => {
  devs = await openTestDevices();
});
afterAll(() => devs.close());

const rand = rng(3);
const vals = (n: number): number[] => Array.from({ length: n }, () => 2 * rand() - 1);

describe('MoE ops: gradients against finite differences', () => {
  const idx = [0, 2, 1, 2, 2, 0, 1, 0, 2, 1]; // 5 tokens, k = 2, 3 experts
  const plan = () =>
    noGrad(() => dispatchPlan(fromArray(idx, [5, 2], { device: devs.ref, dtype: 'i32' }), 3, 2));
  it('gatherRows', async () => {
    const p = plan();
    await gradCheck(devs.ref, (x: Tensor) => gatherRows(x, p), [
      { values: vals(15), shape: [5, 3] },
    ]);
  });
  it('groupedMatmul', async () => {
    const p = plan();
    const rows = p.rowAssign.size;
    await gradCheck(devs.ref, (x: Tensor, w: Tensor) => groupedMatmul(x, w, p), [
      { values: vals(rows * 3), shape: [rows, 3] },
      { values: vals(3 * 4 * 3), shape: [3, 4, 3] },
    ]);
  });
  it('combineRows', async () => {
    const p = plan();
    const rows = p.rowAssign.size;
    await gradCheck(devs.ref, (y: Tensor, w: Tensor) => combineRows(y, w, p), [
      { values: vals(rows * 3), shape: [rows, 3] },
      { values: vals(10), shape: [5, 2] },
    ]);
  });
});

describe('dispatch plan on WebGPU', () => {
  for (const capacity of [0, 150]) {
    it(`equals the reference plan over many chunks (capacity ${capacity || 'none'})`, async () => {
      // 700 tokens × top-2 = 1400 assignments: the rank kernel scans six 256-wide chunks.
      const r = rng(12);
      const ids: number[] = [];
      for (let t = 0; t < 700; t++) {
        const a = Math.floor(r() ** 2 * 8);
        let b = Math.floor(r() * 8);
        if (b === a) b = (a + 1) % 8;
        ids.push(a, b);
      }
      const plans = [devs.cpu, devs.gpu].map((device) =>
        dispatchPlan(fromArray(ids, [700, 2], { device, dtype: 'i32' }), 8, capacity),
      );
      for (const key of ['slot', 'rowAssign', 'rowExpert', 'segments', 'counts'] as const) {
        const [a, b] = await Promise.all(
          plans.map(async (p) => Array.from(await p[key].toArray())),
        );
        expect(b, key).toEqual(a);
      }
      const counts = Array.from(await plans[1]!.counts.toArray());
      expect(counts.reduce((x, y) => x + y, 0)).toBe(1400);
      if (capacity > 0) expect(Math.max(...counts)).toBeGreaterThan(capacity);
      plans.forEach((p) => p.dispose());
    });
  }
});

describe('MoE ops: bad input', () => {
  it('names the argument, what it got and what was expected', () => {
    const s = fromArray([0.1, 0.2, 0.3, 0.4], [2, 2], { device: devs.cpu });
    expect(() => routeTopK(s, { k: 3 })).toThrow(
      /routeTopK: k is 3; expected an integer in \[1, 2\]/,
    );
    expect(() => routeTopK(s, { k: 1, groups: 3 })).toThrow(/groups is 3; expected a divisor/);
    const f = fromArray([1, 2], [2], { device: devs.cpu });
    expect(() => routeTopK(f, { k: 1 })).toThrow(
      /scores has shape \[2\] and dtype f32; expected \[tokens, experts\] f32/,
    );
    expect(() => dispatchPlan(s, 2, 0)).toThrow(
      /idx has shape \[2,2\] and dtype f32; expected \[tokens, k\] i32/,
    );
    const idx = fromArray([0, 1], [2, 1], { device: devs.cpu, dtype: 'i32' });
    expect(() => dispatchPlan(idx, 2, -1)).toThrow(/capacity is -1/);
  });
});
