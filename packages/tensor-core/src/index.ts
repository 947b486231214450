export { acquireGpu, releaseGpu } from './backends/webgpu/adapter.js';
export type { AdapterSummary, GpuContext, AcquireGpuOptions } from './backends/webgpu/adapter.js';
export { runSelfCheck } from './backends/webgpu/self-check.js';
export type { SelfCheckResult } from './backends/webgpu/self-check.js';
