import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from './backends/webgpu/webgpu-backend.js';
import { Device } from './device.js';
import { executeInPlace } from './execute.js';
import { noGrad } from './autograd/grad-mode.js';
import { keep, scope } from './memory/scope.js';
import * as ops from './ops/index.js';
import type { Tensor } from './tensor.js';

let gpu: Device;
beforeAll(async () => {
  gpu = await Device.open({ backend: 'webgpu' });
});
afterAll(() => gpu.close());

describe('steady-state training steps on WebGPU', () => {
  it('create no GPU buffers and leave memory unchanged after warm-up', async () => {
    const backend = gpu.backend as WebGpuBackend;
    const gen = new ops.Generator(1);
    const param = (shape: number[]): Tensor => {
      const t = keep(ops.mul(ops.randn(shape, { device: gpu, generator: gen }), 0.1));
      t.requiresGrad = true;
      return t;
    };
    const [B, T, H, D] = [2, 16, 2, 8];
    const params = [param([H * D, H * D]), param([64, H * D]), param([64]), param([H * D, 32])];
    const [wq, w1, b1, w2] = params as [Tensor, Tensor, Tensor, Tensor];
    // Attention, fused linear with epilogue, SwiGLU, backward and an in-place update.
    const step = (): Promise<number> =>
      scope(async () => {
        const x = ops.randn([B, T, H * D], { device: gpu, generator: gen });
        const q = ops.transpose(ops.reshape(ops.linear(x, wq), [B, T, H, D]), 1, 2);
        const att = ops.causalAttention(q, q, q);
        const h = ops.reshape(ops.transpose(att, 1, 2), [B, T, H * D]);
        const m = ops.linear(h, w1, b1, { activation: 'gelu_tanh' });
        const [g, u] = ops.split(m, [32, 32], -1);
        const y = ops.linear(ops.swiglu(g!, u!), w2);
        const loss = ops.mean(ops.mul(y, y));
        loss.backward();
        noGrad(() => {
          for (const p of params) {
            executeInPlace('copy', [ops.sub(p, ops.mul(p.grad!, 0.01))], [p], {});
            p.setGrad(null);
          }
        });
        return loss.item();
      });
    await step();
    await step();
    const buffers = backend.buffersCreated;
    const mem = gpu.memory();
    for (let i = 0; i < 3; i++) await step();
    expect(backend.buffersCreated - buffers).toBe(0);
    const after = gpu.memory();
    expect(after.liveBytes).toBe(mem.liveBytes);
    expect(after.liveTensors).toBe(mem.liveTensors);
    for (const p of params) p.dispose();
  });
});
