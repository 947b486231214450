/** Starting TF.js's WebGPU backend on a Dawn instance in Node (Node 20 has no `navigator`). */
import type * as TfCore from '@tensorflow/tfjs-core';

/** Sets `navigator.gpu` to `gpu`, loads TF.js with gradients and its WebGPU backend, and checks it started. */
export async function startTfWebGpu(gpu: GPU): Promise<typeof TfCore> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  (g.navigator as { gpu?: GPU }).gpu = gpu;
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  await import('@tensorflow/tfjs-backend-webgpu');
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'webgpu')
    throw new Error(`TF.js did not start its WebGPU backend (got '${tf.getBackend()}')`);
  return tf;
}
