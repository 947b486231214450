/** A length class of sequences, batched separately from the others. */
export interface LengthBucket {
  /** Name shown on batches (`S`, `M`, ...). */
  name: string;
  /** Longest sequence the bucket takes; it takes those longer than the previous bucket's. */
  maxLength: number;
  /** Token budget of this bucket's batches (default: the batcher's `maxTokensPerBatch`). */
  maxTokens?: number;
}

/** Four buckets for sequences up to 128, 512, 2048 and 8192 tokens. */
export const DEFAULT_LENGTH_BUCKETS: readonly LengthBucket[] = [
  { name: 'S', maxLength: 128 },
  { name: 'M', maxLength: 512 },
  { name: 'L', maxLength: 2048 },
  { name: 'XL', maxLength: 8192 },
];

/**
 * Checks buckets and sorts them by `maxLength`.
 *
 * @param buckets - the buckets.
 * @param maxTokens - the default token budget.
 * @returns the buckets in ascending order of length.
 */
export function checkBuckets(buckets: readonly LengthBucket[], maxTokens: number): LengthBucket[] {
  if (buckets.length === 0) {
    throw new RangeError('bucketBatches: options.buckets is empty; expected at least one bucket');
  }
  const sorted = [...buckets].sort((a, b) => a.maxLength - b.maxLength);
  sorted.forEach((b, i) => {
    if (!Number.isInteger(b.maxLength) || b.maxLength < 1) {
      throw new RangeError(
        `bucketBatches: bucket ${b.name} has maxLength ${b.maxLength}; expected an integer >= 1`,
      );
    }
    if (i > 0 && b.maxLength === sorted[i - 1]!.maxLength) {
      throw new RangeError(
        `bucketBatches: buckets ${sorted[i - 1]!.name} and ${b.name} have the same maxLength ${b.maxLength}`,
      );
    }
    const budget = b.maxTokens ?? maxTokens;
    if (!(budget >= b.maxLength)) {
      throw new RangeError(
        `bucketBatches: bucket ${b.name} has a token budget of ${budget}; expected at least its maxLength ${b.maxLength} so one sequence fits`,
      );
    }
  });
  return sorted;
}

/**
 * The smallest bucket that takes a length.
 *
 * @param buckets - sorted by `maxLength`.
 * @param length - a sequence length.
 * @returns the bucket index, or -1 when the length exceeds every bucket.
 */
export function bucketIndex(buckets: readonly LengthBucket[], length: number): number {
  let lo = 0;
  let hi = buckets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buckets[mid]!.maxLength >= length) hi = mid;
    else lo = mid + 1;
  }
  return lo === buckets.length ? -1 : lo;
}
