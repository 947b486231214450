/**
 * @fathom/quant: int8 / int4 / mixed 8-4-bit weight quantisation with packed
 * WGSL matmul kernels, QuantLinear, quantised safetensors checkpoints, QAT and
 * magnitude pruning.
 * @packageDocumentation
 */
export { resolveScheme, schemeLabel } from './scheme.js';
export type {
  GroupSize,
  Int4Scheme,
  Int8Scheme,
  MixedScheme,
  QuantScheme,
  ResolvedScheme,
} from './scheme.js';
export { packCodes, unpackCodes, packedWords } from './packing.js';
export type { CodeBits } from './packing.js';
export {
  quantizeMatrix,
  dequantizeMatrix,
  highVarianceColumns,
  quantizedBytes,
  scaleCount,
} from './quantize.js';
export type { QuantPart, QuantizedMatrix } from './quantize.js';
export { QuantWeight, quantMatmul, dequantize } from './quant-weight.js';
export type { DeviceQuantPart } from './quant-weight.js';
export { QuantLinear } from './quant-linear.js';
export { quantizeModel, modelBytes } from './quantize-model.js';
export type { QuantizeModelSpec, QuantizeModelReport } from './quantize-model.js';
export { registerQuantKernels, QUANT_MATMUL, QUANT_DEQUANTIZE, FAKE_QUANT } from './kernels.js';
export type { QuantMatmulAttrs, FakeQuantAttrs } from './kernels.js';
export { saveQuantizedModel, loadQuantizedModel, QUANT_METADATA_KEY } from './checkpoint.js';
export { fakeQuantize, weightGrid } from './fake-quant.js';
export type { FakeQuantGrid } from './fake-quant.js';
export { FakeQuantLinear, prepareQat, convertQat } from './qat.js';
export type { QatSpec } from './qat.js';
export { magnitudeMask, polynomialSparsity, MagnitudePruner, weightSparsity } from './prune.js';
export type { PrunePattern, SparsitySchedule, PrunerOptions } from './prune.js';
