/** `Embedding`: a lookup table of vectors indexed by token ids. */
import { type Tensor, embedding } from '@fathom/tensor-core';
import { Module } from '../module.js';
import { type InitOptions, normalInit } from './init.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions extends InitOptions {
  /** Standard deviation of the initial vectors (default 0.02). */
  initStd?: number;
}

/** Maps i32 ids [...] to vectors [..., dim]. */
export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    this.registerParameter(
      'weight',
      normalInit([numEmbeddings, embeddingDim], options.initStd ?? 0.02, options),
    );
  }

  /** The table, [num, dim]. */
  get weight(): Tensor {
    return this.param('weight');
  }

  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'i32')
      throw new TypeError(`Embedding: ids have dtype ${ids.dtype}; expected i32`);
    return embedding(this.weight, ids);
  }
}
