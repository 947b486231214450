/** Keys and values of past positions, per attention layer, for incremental decoding. */
import { type Tensor, concat, keep } from '@fathom/tensor-core';

/** The cache of one attention layer: k and v of shape [B, kvHeads, S, headDim]. */
export class LayerKvCache {
  k: Tensor | null = null;
  v: Tensor | null = null;

  /** Positions already cached. */
  get length(): number {
    return this.k ? this.k.shape[2]! : 0;
  }

  /** Appends new keys/values and returns the full k and v (owned by the cache). */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const nextK = this.k ? concat([this.k, k], 2) : k.contiguous();
    const nextV = this.v ? concat([this.v, v], 2) : v.contiguous();
    this.k?.dispose();
    this.v?.dispose();
    this.k = keep(nextK);
    this.v = keep(nextV);
    return { k: nextK, v: nextV };
  }

  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = null;
    this.v = null;
  }
}

/** One {@link LayerKvCache} per decoder layer. */
export class KvCache {
  readonly layers: LayerKvCache[];

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKvCache());
  }

  /** Positions already cached. */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
