import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from './backends/webgpu/webgpu-backend.js';
import { Device } from './device.js';
import * as ops from './ops/index.js';
import type { Tensor } from './tensor.js';
import { onEach, openTestDevices, type TestDevices } from './test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

describe('bad inputs get errors that name the op, the argument, what it got and what it wanted', () => {
  const cases: [string, () => unknown, string | RegExp][] = [
    [
      'mismatched shapes',
      () => ops.add(onEach([d.gpu], [1, 2, 3], [3])[0]!, onEach([d.gpu], [1, 2], [2])[0]!),
      'add: shapes [3] and [2] do not broadcast: dim -1 is 3 in one and 2 in another',
    ],
    [
      'mixed devices',
      () => ops.mul(onEach([d.gpu], [1], [1])[0]!, onEach([d.ref], [1], [1])[0]!),
      /mul: b is on device cpu:\d+, but the op runs on webgpu:\d+/,
    ],
    [
      'disposed tensor',
      () => {
        const [x] = onEach([d.gpu], [1], [1]);
        x!.dispose();
        return ops.exp(x!);
      },
      'exp: x was disposed; a tensor cannot be used after dispose()',
    ],
    [
      'wrong rank for an axis',
      () => ops.sum(onEach([d.gpu], [1, 2], [2])[0]!, { axis: 3 }),
      'sum: axis 3 is out of range for a tensor of rank 1',
    ],
    [
      'wrong dtype for where',
      () => ops.where(onEach([d.gpu], [1], [1])[0]!, 1, 2),
      'where: cond has dtype f32; expected bool',
    ],
    [
      'unknown dtype',
      () => ops.cast(onEach([d.gpu], [1], [1])[0]!, 'f64' as 'f32'),
      'cast: got dtype f64; expected one of',
    ],
    [
      'ragged data',
      () => ops.tensor([[1, 2], [3]], { device: d.ref }),
      'tensor: data is ragged at depth 1; expected 2 entries',
    ],
    [
      'wrong value count',
      () => ops.fromArray([1, 2, 3], [2, 2], { device: d.ref }),
      'fromArray: values has 3 elements; shape [2,2] needs 4',
    ],
    [
      'bad shape',
      () => ops.zeros([2, -1], { device: d.ref }),
      'full: shape must be a list of non-negative integers; got [2,-1]',
    ],
    [
      'item of many',
      () => onEach([d.ref], [1, 2], [2])[0]!.item(),
      'item: tensor has shape [2] (2 elements); expected exactly one',
    ],
  ];
  for (const [what, run, message] of cases) {
    it(what, async () => {
      let error: unknown;
      try {
        await run();
      } catch (e) {
        error = e;
      }
      expect(error, `${what} should throw`).toBeInstanceOf(Error);
      if (typeof message === 'string') expect((error as Error).message).toContain(message);
      else expect((error as Error).message).toMatch(message);
    });
  }
});

describe('devices', () => {
  it('reports its backend and moves tensors between devices', async () => {
    expect(d.gpu.kind).toBe('webgpu');
    expect(d.ref.kind).toBe('cpu');
    const [x] = onEach([d.gpu], [1, 2, 3], [3]);
    const y: Tensor = await x!.to(d.ref);
    expect(y.device).toBe(d.ref);
    expect(Array.from(await y.toArray())).toEqual([1, 2, 3]);
  });

  it("'auto' picks WebGPU on a hardware adapter, wasm on a software one, and names the reason", async () => {
    const software = (d.gpu.backend as WebGpuBackend).context.summary.isSoftware;
    const dev = await Device.open({ backend: 'auto', announce: false });
    try {
      expect(dev.kind).toBe(software ? 'wasm' : 'webgpu');
      expect(dev.reason).toContain('auto');
      if (software) expect(dev.reason).toContain('software');
    } finally {
      dev.close();
    }
  });

  it('rejects an unknown backend', async () => {
    await expect(Device.open({ backend: 'metal' as 'cpu' })).rejects.toThrow(
      "Device.open: backend 'metal' is unknown",
    );
  });
});
