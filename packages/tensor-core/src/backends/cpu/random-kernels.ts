/**
 * Reference kernels of the random ops: the raw Philox words of the stream
 * (random/philox.ts), turned into values in float64 with the same formulas the
 * WebGPU kernels use in f32.
 */
import type { TensorView } from '../../backend.js';
import {
  type BernoulliKernelAttrs,
  type DropoutKernelAttrs,
  type NormalKernelAttrs,
  type RandintKernelAttrs,
  type RandomKernelAttrs,
  type UniformKernelAttrs,
  normalsOfBlock,
  philoxStream,
  uniformOfWord,
} from '../../random/philox.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { type CpuBackend, dataOf } from './cpu-backend.js';
import { valuesOf } from './strided.js';

/** The stream's words for every element of `out`, padded to whole blocks. */
function wordsFor(out: TensorView, attrs: RandomKernelAttrs): Uint32Array {
  return philoxStream(attrs.start, new Uint32Array(Math.ceil(sizeOf(out.shape) / 4) * 4));
}

registerKernel<CpuBackend, RandomKernelAttrs>('random_bits', 'cpu', (_b, _in, [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  for (let i = 0; i < dst.length; i++) dst[i] = words[i]!;
});

registerKernel<CpuBackend, UniformKernelAttrs>('random_uniform', 'cpu', (_b, _in, [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  for (let i = 0; i < dst.length; i++) dst[i] = a.low + a.span * uniformOfWord(words[i]!);
});

registerKernel<CpuBackend, NormalKernelAttrs>('random_normal', 'cpu', (_b, _in, [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  const z = new Float64Array(4);
  for (let blk = 0; blk * 4 < dst.length; blk++) {
    normalsOfBlock(words.subarray(blk * 4, blk * 4 + 4), z);
    for (let j = 0; j < 4 && blk * 4 + j < dst.length; j++)
      dst[blk * 4 + j] = a.mean + a.std * z[j]!;
  }
});

registerKernel<CpuBackend, BernoulliKernelAttrs>('bernoulli', 'cpu', (_b, [prob], [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  if (prob) {
    const p = valuesOf(prob, out!.shape);
    for (let i = 0; i < dst.length; i++) dst[i] = uniformOfWord(words[i]!) < p[i]! ? 1 : 0;
  } else {
    for (let i = 0; i < dst.length; i++) dst[i] = words[i]! >>> 8 < a.threshold ? 1 : 0;
  }
});

registerKernel<CpuBackend, RandintKernelAttrs>('randint', 'cpu', (_b, _in, [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  // floor(w · range / 2^32) in exact integer arithmetic (the product needs up to 64 bits).
  const range = BigInt(a.range);
  for (let i = 0; i < dst.length; i++) dst[i] = a.low + Number((BigInt(words[i]!) * range) >> 32n);
});

registerKernel<CpuBackend, DropoutKernelAttrs>('dropout', 'cpu', (_b, [x], [out], a) => {
  const dst = dataOf(out!.handle);
  const words = wordsFor(out!, a);
  const v = valuesOf(x!, out!.shape);
  for (let i = 0; i < dst.length; i++)
    dst[i] = words[i]! >>> 8 >= a.threshold ? v[i]! * a.scale : 0;
});
