import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../ops/index.js';
import { keep, scope } from './scope.js';
import type { Device } from '../device.js';
import type { Tensor } from '../tensor.js';
import {
  onEach,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '../test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

describe('scope', () => {
  it('frees what fn created and keeps what it returns (sync)', () => {
    const dev = d.gpu;
    const start = dev.memory();
    const [x] = onEach([dev], [1, 2, 3], [3]);
    const { y, z } = scope(() => {
      const a = ops.exp(x!);
      const b = ops.mul(a, 2);
      return { y: ops.add(b, 1), z: [ops.neg(a)] };
    });
    expect(dev.memory().liveTensors - start.liveTensors).toBe(3); // x, y, z[0]
    for (const t of [x, y, ...z]) t!.dispose();
    expect(dev.memory().liveTensors).toBe(start.liveTensors);
    expect(dev.memory().liveBytes).toBe(start.liveBytes);
  });

  it('works across awaits, and two async scopes running at once do not mix', async () => {
    const dev = d.gpu;
    const start = dev.memory();
    const run = (v: number): Promise<{ t: Tensor; n: number }> =>
      scope(async () => {
        const [x] = onEach([dev], [v], [1]);
        const y = ops.mul(x!, 2);
        const n = await y.item(); // the other scope creates tensors meanwhile
        const z = ops.add(y, n);
        return { t: z, n };
      });
    const [a, b] = await Promise.all([run(1), run(10)]);
    expect(a.n).toBe(2);
    expect(await a.t.item()).toBe(4);
    expect(await b.t.item()).toBe(40);
    expect(dev.memory().liveTensors - start.liveTensors).toBe(2);
    a.t.dispose();
    b.t.dispose();
    expect(dev.memory().liveBytes).toBe(start.liveBytes);
  });

  it('keep() exempts a tensor; a throwing fn still frees everything', () => {
    const dev = d.ref;
    const start = dev.memory().liveTensors;
    let kept: Tensor | undefined;
    expect(() =>
      scope(() => {
        kept = keep(ops.full([2], 1, { device: dev }));
        ops.full([2], 2, { device: dev });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(dev.memory().liveTensors - start).toBe(1);
    kept!.dispose();
  });

  it('releases an abandoned graph but keeps the graph of a returned tensor', async () => {
    const dev = d.gpu;
    const [w] = onEach([dev], [1, 2], [2], 'f32', true);
    const start = dev.memory();
    scope(() => {
      ops.sum(ops.exp(w!)); // result dropped: its graph must go too
    });
    expect(dev.memory().liveBytes).toBe(start.liveBytes);
    const loss = scope(() => ops.sum(ops.mul(ops.exp(w!), 3)));
    loss.backward(); // graph survived the scope
    expect(w!.grad).not.toBeNull();
    loss.dispose();
    w!.setGrad(null);
    expect(dev.memory().liveTensors).toBe(start.liveTensors);
    expect(dev.memory().liveBytes).toBe(start.liveBytes);
  });
});

/** A two-layer model written with elementwise ops and reductions only. */
async function trainingLoopLeavesMemoryUnchanged(dev: Device): Promise<void> {
  const rand = rng(11);
  const [w1] = onEach([dev], uniformValues(rand, 8, -1, 1), [1, 8], 'f32', true);
  const [w2] = onEach([dev], uniformValues(rand, 8, -1, 1), [8], 'f32', true);
  const [x] = onEach([dev], uniformValues(rand, 16, -1, 1), [16, 1]);
  const step = (): Promise<number> =>
    scope(async () => {
      const h = ops.tanh(ops.mul(x!, w1!));
      const y = ops.sum(ops.mul(h, w2!), { axis: 1 });
      const loss = ops.mean(ops.square(ops.sub(y, ops.sin(ops.reshape(x!, [16])))));
      loss.backward();
      for (const p of [w1!, w2!]) {
        const next = ops.sub(p, ops.mul(p.grad!, 0.1));
        // In-place update without an optimizer: swap values through the host-free path.
        p.setGrad(null);
        const v = await next.toArray();
        dev.backend.write(p.storage.handle, p.dtype, v);
      }
      return loss.item();
    });
  await step();
  const before = dev.memory();
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) losses.push(await step());
  const after = dev.memory();
  expect(after.liveTensors).toBe(before.liveTensors);
  expect(after.liveBytes).toBe(before.liveBytes);
  expect(after.liveStorages).toBe(before.liveStorages);
  expect(losses[4]).toBeLessThan(losses[0]!);
}

describe('a training loop', () => {
  it('leaves live tensors and bytes unchanged on WebGPU', () =>
    trainingLoopLeavesMemoryUnchanged(d.gpu));
  it('leaves live tensors and bytes unchanged on the reference backend', () =>
    trainingLoopLeavesMemoryUnchanged(d.ref));
  it('reuses pooled GPU buffers: steady-state steps allocate no new GPU memory', async () => {
    const dev = d.gpu;
    const [x] = onEach([dev], uniformValues(rng(1), 1000, -1, 1), [1000]);
    const step = (): void => scope(() => void ops.sum(ops.exp(ops.mul(x!, 2))));
    step();
    dev.flush();
    const pool = dev.memory().poolBytes;
    for (let i = 0; i < 10; i++) step();
    dev.flush();
    expect(dev.memory().poolBytes).toBe(pool);
  });
});
