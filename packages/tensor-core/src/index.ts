/**
 * @fathom/tensor-core: tensors, dtypes, autograd and explicit memory on WebGPU
 * and a reference backend.
 * @packageDocumentation
 */
export { Device } from './device.js';
export type { DeviceOptions, MemoryInfo } from './device.js';
export { Tensor } from './tensor.js';
export type { DType } from './dtype.js';
export { byteSize, isFloat, promoteTypes } from './dtype.js';
export type { Shape } from './shape.js';
export {
  f32ToF16Bits,
  f16BitsToF32,
  f32ToBf16Bits,
  bf16BitsToF32,
  roundToF16,
  roundToBf16,
} from './half.js';
export * from './ops/index.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/grad-mode.js';
export { scope, keep } from './memory/scope.js';
export type { Releasable, Disposable } from './memory/scope.js';
export { registerKernel, getKernel, hasKernel, registeredOps } from './registry.js';
export type { Kernel } from './registry.js';
export type { Backend, BackendName, HostArray, StorageHandle, TensorView } from './backend.js';
export {
  execute,
  executeInPlace,
  record,
  needsGrad,
  commonDevice,
  emptyTensor,
  viewOf,
} from './execute.js';
export type { OutputSpec } from './execute.js';
export { DisposedTensorError, DeviceMismatchError } from './errors.js';
export { CpuBackend } from './backends/cpu/cpu-backend.js';
export { WasmBackend, WasmStorage } from './backends/wasm/wasm-backend.js';
export type { KernelCounts } from './backends/wasm/wasm-backend.js';
export { registerWasmFallbacks } from './backends/wasm/fallback.js';
export type { CpuBackendOptions } from './backends/cpu/cpu-backend.js';
export { Storage } from './memory/storage.js';
export type { MemoryCounters } from './memory/storage.js';
export type { BackwardFn } from './autograd/node.js';
export { GradNode } from './autograd/node.js';
export type { GradEdge } from './autograd/node.js';
export { WebGpuBackend, GpuStorage } from './backends/webgpu/webgpu-backend.js';
export { CpuStorage, dataOf } from './backends/cpu/cpu-backend.js';
export { gridFor, WORKGROUP } from './backends/webgpu/elementwise-codegen.js';
export {
  bufferOf,
  foldGrid,
  assertBindable,
  uniformStruct,
  packUniforms,
} from './backends/webgpu/kernel-helpers.js';
export type { UniformField } from './backends/webgpu/kernel-helpers.js';
export { valuesOf, offsetsOf } from './backends/cpu/strided.js';
export {
  WGSL_DTYPE_HELPERS,
  loadExpr,
  storeExpr,
  storageType,
  loadedType,
} from './backends/webgpu/wgsl-dtype.js';
export type { Dispatch } from './backends/webgpu/webgpu-backend.js';
export { acquireGpu, releaseGpu } from './backends/webgpu/adapter.js';
export type { AdapterSummary, GpuContext, AcquireGpuOptions } from './backends/webgpu/adapter.js';
export { runSelfCheck } from './backends/webgpu/self-check.js';
export { tuneMatmul } from './backends/webgpu/matmul-tune-run.js';
export type { SizeClass } from './backends/webgpu/matmul-tuner.js';
export type { AMode } from './backends/webgpu/matmul-direct.js';
export { WasmAllocator } from './backends/wasm/allocator.js';
export type { WasmMemory } from './backends/wasm/webassembly.js';
export type { WasmData, WasmBackendOptions, DataKind } from './backends/wasm/wasm-backend.js';
export type { TuneMatmulOptions, TuneMatmulResult } from './backends/webgpu/matmul-tune-run.js';
export type { DirectTile } from './backends/webgpu/matmul-direct.js';
export type { SelfCheckResult } from './backends/webgpu/self-check.js';
