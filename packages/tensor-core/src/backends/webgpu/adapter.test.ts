import { describe, expect, it } from 'vitest';
import { acquireGpu, releaseGpu } from './adapter.js';
import { runSelfCheck } from './self-check.js';

describe('WebGPU through Dawn', () => {
  it('finds an adapter, runs a compute shader and gets the right numbers', async () => {
    const got = await acquireGpu();
    // CI installs lavapipe through scripts/setup-webgpu.sh: a missing adapter is a failure, never a skip.
    if (!got.ok) throw new Error(got.reason);
    try {
      expect(got.context.summary.description.length).toBeGreaterThan(0);
      expect(got.context.device.limits.maxStorageBufferBindingSize).toBe(
        got.context.adapter.limits.maxStorageBufferBindingSize,
      );
      const result = await runSelfCheck(got.context.device, 4099);
      expect(result.maxAbsError).toBe(0);
      expect(result.sample).toEqual([1, 1.25, 1.5, 1.75]);
    } finally {
      releaseGpu(got.context);
    }
  });
});
