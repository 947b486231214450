/**
 * `pnpm smoke`: prints which WebGPU adapter this machine offers and checks one
 * compute shader's result. The quickest way to see that WebGPU works here.
 */
import { acquireGpu, releaseGpu } from '../backends/webgpu/adapter.js';
import { runSelfCheck } from '../backends/webgpu/self-check.js';

const got = await acquireGpu();
if (!got.ok) {
  console.error(`WebGPU unavailable: ${got.reason}`);
  process.exit(1);
}
const { summary, device } = got.context;
console.log(`adapter: ${summary.description}${summary.isSoftware ? ' (software)' : ''}`);
console.log(`shader-f16: ${summary.shaderF16 ? 'yes' : 'no'}`);
const result = await runSelfCheck(device);
console.log(
  `saxpy over ${result.n} values: first ${result.sample.join(', ')}; max error vs CPU ${result.maxAbsError}`,
);
releaseGpu(got.context);
process.exit(result.maxAbsError === 0 ? 0 : 1);
