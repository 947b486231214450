/**
 * This package's WebGPU kernel conventions: the workgroup size and flat
 * indices, plus tensor-core's kernel helpers re-exported for the kernels here.
 */
export {
  assertBindable,
  bufferOf,
  foldGrid,
  packUniforms,
  uniformStruct,
} from '@fathom/tensor-core';
export type { UniformField } from '@fathom/tensor-core';

/** Invocations per workgroup of every kernel here. */
export const WORKGROUP = 256;

/** WGSL for the flat index of this invocation (grid folded by {@link foldGrid}). */
export const FLAT_INDEX = `gid.x + gid.y * nw.x * ${WORKGROUP}u`;
/** WGSL for the flat index of this workgroup. */
export const FLAT_GROUP = `wid.x + wid.y * nw.x`;
