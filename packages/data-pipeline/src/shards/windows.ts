/** Where one training window lies: a shard and a token offset inside it. */
export interface WindowLocation {
  /** Index of the shard in the loader's shard list. */
  shard: number;
  /** Offset of the window's first token in that shard. */
  start: number;
}

/**
 * Enumerates the windows of `contextLength + 1` tokens that fit inside each shard, starting at
 * multiples of `stride`, and numbers them across shards. A window never runs past the end of
 * its shard, so it never mixes two shards; a shard shorter than one window contributes none.
 */
export class ShardWindows {
  /** Windows in all shards together. */
  readonly total: number;
  /** Windows per shard. */
  readonly perShard: readonly number[];
  private readonly firstWindow: Float64Array;

  /**
   * @param tokenCounts - tokens in each shard.
   * @param contextLength - tokens of model input per window (each window reads one more).
   * @param stride - distance between window starts, in [1, contextLength] for full coverage.
   */
  constructor(
    tokenCounts: readonly number[],
    readonly contextLength: number,
    readonly stride: number,
  ) {
    if (!Number.isInteger(contextLength) || contextLength < 1) {
      throw new RangeError(
        `ShardWindows: contextLength is ${contextLength}; expected an integer >= 1`,
      );
    }
    if (!Number.isInteger(stride) || stride < 1) {
      throw new RangeError(`ShardWindows: stride is ${stride}; expected an integer >= 1`);
    }
    const span = contextLength + 1;
    this.perShard = tokenCounts.map((n) => (n >= span ? Math.floor((n - span) / stride) + 1 : 0));
    this.firstWindow = new Float64Array(tokenCounts.length + 1);
    for (let s = 0; s < tokenCounts.length; s++) {
      this.firstWindow[s + 1] = this.firstWindow[s]! + this.perShard[s]!;
    }
    this.total = this.firstWindow[tokenCounts.length]!;
  }

  /**
   * Finds window number `index`.
   *
   * @param index - an integer in [0, total).
   * @returns its shard and start offset.
   */
  locate(index: number): WindowLocation {
    if (!Number.isInteger(index) || index < 0 || index >= this.total) {
      throw new RangeError(
        `ShardWindows.locate: index is ${index}; expected an integer in [0, ${this.total})`,
      );
    }
    // Largest shard s with firstWindow[s] <= index (empty shards share their start).
    let lo = 0;
    let hi = this.perShard.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firstWindow[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { shard: lo, start: (index - this.firstWindow[lo]!) * this.stride };
  }
}
