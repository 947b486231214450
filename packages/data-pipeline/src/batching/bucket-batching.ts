import { Xoshiro128 } from '../random/xoshiro128.js';
import { shuffleInPlace } from '../random/shuffle.js';
import { bucketIndex, checkBuckets, DEFAULT_LENGTH_BUCKETS } from './buckets.js';
import type { LengthBucket } from './buckets.js';
import type { TokenUsage } from './waste.js';

/** Options of {@link bucketBatches}. */
export interface BucketBatchingOptions<T> {
  /** Token budget of a batch: rows x longest length must not exceed it. */
  maxTokensPerBatch: number;
  /** Length classes (default {@link DEFAULT_LENGTH_BUCKETS}). */
  buckets?: readonly LengthBucket[];
  /**
   * Relative spread of lengths in a batch (default 0.1): every length lies within
   * `center * (1 +- tolerance)` of the batch's `center`, so padding stays under about
   * `2 * tolerance` of a row.
   */
  tolerance?: number;
  /** Most rows per batch (default: no limit beyond the token budget). */
  maxBatchSize?: number;
  /**
   * Sequences gathered before batches are formed (default 4096). Larger pools give tighter
   * batches; batches of one pool are shuffled together, and a pool's last, unfilled batch of
   * each bucket waits for the next pool.
   */
  poolSize?: number;
  /** Shuffle the batches of each pool (default `true`), so lengths do not arrive sorted. */
  shuffle?: boolean;
  /** Seed of that shuffle (default 0). */
  seed?: number;
  /** What to do with a sequence longer than every bucket: `error` (default) or `skip`. */
  oversize?: 'error' | 'skip';
  /** Length of an item (default `item.length`). */
  lengthOf?: (item: T) => number;
}

/** A batch of sequences of similar length. */
export interface LengthBatch<T> extends TokenUsage {
  /** Name of the bucket. */
  bucket: string;
  /** The sequences. */
  items: T[];
  /** Their lengths. */
  lengths: number[];
  /** Shortest length. */
  minLength: number;
  /** Longest length: the length rows are padded to. */
  maxLength: number;
  /** Centre of the tolerance band: every length is within `center * (1 +- tolerance)`. */
  center: number;
}

interface Entry<T> {
  item: T;
  length: number;
}

/**
 * Length-bucketed dynamic batching. Sequences are put in the smallest bucket that takes them;
 * within a bucket they are sorted by length and cut greedily into batches whose lengths stay
 * within the tolerance band and whose padded size (rows x longest) stays within the token
 * budget. Compared with fixed-size batches in arrival order this wastes far less on padding
 * when lengths are skewed.
 *
 * @param sequences - the sequences (token arrays, or anything with `lengthOf`).
 * @param options - budget, buckets, tolerance, pooling and shuffling.
 * @returns the batches.
 */
export function* bucketBatches<T>(
  sequences: Iterable<T>,
  options: BucketBatchingOptions<T>,
): Generator<LengthBatch<T>> {
  const maxTokens = options.maxTokensPerBatch;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(
      `bucketBatches: options.maxTokensPerBatch is ${maxTokens}; expected an integer >= 1`,
    );
  }
  const tolerance = options.tolerance ?? 0.1;
  if (!(tolerance >= 0 && tolerance < 1)) {
    throw new RangeError(
      `bucketBatches: options.tolerance is ${tolerance}; expected a number in [0, 1)`,
    );
  }
  const maxBatchSize = options.maxBatchSize ?? Infinity;
  if (!(maxBatchSize >= 1)) {
    throw new RangeError(
      `bucketBatches: options.maxBatchSize is ${maxBatchSize}; expected a number >= 1`,
    );
  }
  const poolSize = options.poolSize ?? 4096;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new RangeError(
      `bucketBatches: options.poolSize is ${poolSize}; expected an integer >= 1`,
    );
  }
  const buckets = checkBuckets(options.buckets ?? DEFAULT_LENGTH_BUCKETS, maxTokens);
  const lengthOf = options.lengthOf ?? ((item: T) => (item as { length: number }).length);
  const rng = options.shuffle === false ? undefined : new Xoshiro128(options.seed ?? 0);
  // Widest ratio of longest to shortest that fits one band: max <= min (1 + t) / (1 - t).
  const ratio = (1 + tolerance) / (1 - tolerance);
  const pools: Entry<T>[][] = buckets.map(() => []);
  let pooled = 0;
  let carried = 0; // unfilled batches kept from the previous pool

  const form = (final: boolean): LengthBatch<T>[] => {
    const out: LengthBatch<T>[] = [];
    pools.forEach((pool, b) => {
      const bucket = buckets[b]!;
      const budget = bucket.maxTokens ?? maxTokens;
      pool.sort((x, y) => x.length - y.length);
      let start = 0;
      while (start < pool.length) {
        const min = pool[start]!.length;
        let end = start + 1;
        while (end < pool.length) {
          const len = pool[end]!.length;
          const rows = end - start + 1;
          if (len > min * ratio || rows * len > budget || rows > maxBatchSize) break;
          end++;
        }
        // The last batch of the bucket may still grow: keep it for the next pool.
        if (end === pool.length && !final) break;
        out.push(makeBatch(bucket.name, pool.slice(start, end), tolerance));
        start = end;
      }
      pools[b] = pool.slice(start);
    });
    pooled = pools.reduce((s, p) => s + p.length, 0);
    carried = pooled;
    return rng ? shuffleInPlace(out, rng) : out;
  };

  for (const item of sequences) {
    const length = lengthOf(item);
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(
        `bucketBatches: a sequence has length ${length}; expected an integer >= 0`,
      );
    }
    const b = bucketIndex(buckets, length);
    if (b === -1) {
      if (options.oversize === 'skip') continue;
      throw new RangeError(
        `bucketBatches: a sequence has length ${length}; expected at most the largest bucket's maxLength ${buckets.at(-1)!.maxLength} (or oversize: 'skip')`,
      );
    }
    pools[b]!.push({ item, length });
    pooled++;
    if (pooled - carried >= poolSize) yield* form(false);
  }
  yield* form(true);
}

function makeBatch<T>(bucket: string, entries: Entry<T>[], tolerance: number): LengthBatch<T> {
  const lengths = entries.map((e) => e.length);
  const minLength = lengths[0]!;
  const maxLength = lengths.at(-1)!;
  const realTokens = lengths.reduce((s, l) => s + l, 0);
  // Any centre in [max / (1 + t), min / (1 - t)] puts every length in the band; take the middle.
  const center = (maxLength / (1 + tolerance) + minLength / (1 - tolerance)) / 2;
  return {
    bucket,
    items: entries.map((e) => e.item),
    lengths,
    minLength,
    maxLength,
    center,
    realTokens,
    paddedTokens: maxLength * entries.length,
  };
}
