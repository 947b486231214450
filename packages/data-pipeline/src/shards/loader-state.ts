/**
 * Where a {@link TokenWindowLoader} stands, as plain JSON. Saved with a checkpoint, it lets a
 * loader opened on the same shards with the same settings continue with exactly the batches
 * that would have come next.
 */
export interface TokenWindowLoaderState {
  /** State format version. */
  version: 1;
  /** Windows delivered so far, over all epochs. */
  position: number;
  /** Shuffle seed. */
  seed: number;
  /** Whether windows are shuffled. */
  shuffle: boolean;
  /** Tokens of model input per window. */
  contextLength: number;
  /** Distance between window starts. */
  stride: number;
  /** Token count of each shard, to detect resuming on different data. */
  shardTokens: number[];
}

/**
 * Checks that a saved state belongs to a loader with the given settings.
 *
 * @param state - the saved state (for example parsed from JSON).
 * @param expected - the new loader's settings, with position 0.
 */
export function checkLoaderState(
  state: TokenWindowLoaderState,
  expected: TokenWindowLoaderState,
): void {
  if (state?.version !== 1) {
    throw new TypeError(
      `TokenWindowLoader: resume state has version ${String(state?.version)}; expected 1`,
    );
  }
  if (!Number.isSafeInteger(state.position) || state.position < 0) {
    throw new RangeError(
      `TokenWindowLoader: resume state position is ${state.position}; expected a non-negative integer`,
    );
  }
  for (const key of ['seed', 'shuffle', 'contextLength', 'stride'] as const) {
    if (state[key] !== expected[key]) {
      throw new Error(
        `TokenWindowLoader: resume state has ${key} ${String(state[key])}; expected ${String(expected[key])} as in the loader's options`,
      );
    }
  }
  const a = JSON.stringify(state.shardTokens);
  const b = JSON.stringify(expected.shardTokens);
  if (a !== b) {
    throw new Error(
      `TokenWindowLoader: resume state has shard token counts ${a}; expected ${b} (the shards differ)`,
    );
  }
}
