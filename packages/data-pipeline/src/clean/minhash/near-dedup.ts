import type { TextDocument } from '../../corpus/document.js';
import { keep, remove } from '../step.js';
import type { CleaningStep } from '../step.js';
import { MinHashLshIndex } from './lsh-index.js';
import { optimalLshParams } from './lsh-params.js';
import type { LshParams } from './lsh-params.js';
import { estimateJaccard, MinHasher } from './minhasher.js';
import { shingleHashes } from './shingles.js';

/** Options of {@link minhashDedup}. */
export interface MinHashDedupOptions {
  /**
   * Words per shingle (default 5). Five-word shingles are what FineWeb, RefinedWeb and
   * BigCode use: short enough that an edit touches few shingles, long enough that unrelated
   * documents share almost none.
   */
  shingleSize?: number;
  /**
   * Signature length (default 128). 128 keeps the standard error of a Jaccard estimate near
   * 0.035 at J = 0.8 for 512 bytes per document; FineWeb uses 112, BigCode 256.
   */
  numPerm?: number;
  /**
   * Jaccard similarity above which documents count as near duplicates (default 0.8: the value
   * of many public pipelines; FineWeb's 14 x 8 banding centres near 0.75, BigCode used 0.7).
   */
  threshold?: number;
  /**
   * Bands and rows. Default: the banding that minimises equal-weighted false positive and
   * false negative areas around `threshold` ({@link optimalLshParams}); 9 x 13 for the
   * defaults.
   */
  lsh?: LshParams;
  /**
   * Confirm each candidate by its estimated Jaccard similarity (default `true`), which removes
   * most candidates below the threshold that banding lets through, at the cost of keeping the
   * signature of every kept document. With `false`, a candidate is removed as soon as one band
   * matches, with probability `1 - (1 - s^rows)^bands` at similarity s.
   */
  verify?: boolean;
  /** Seed of the hash functions (default 1). */
  seed?: number;
}

/**
 * A streaming near-deduplication step: MinHash signatures of word shingles, banded into an
 * LSH index. A document whose signature matches a kept document's is removed; the first of a
 * group of near duplicates is kept. Documents with no words are left alone.
 *
 * @param options - shingle size, signature length, threshold and banding.
 * @returns a step that removes documents with reason `near-duplicate`.
 */
export function minhashDedup<D extends TextDocument>(
  options: MinHashDedupOptions = {},
): CleaningStep<D> {
  const shingleSize = options.shingleSize ?? 5;
  const numPerm = options.numPerm ?? 128;
  const threshold = options.threshold ?? 0.8;
  const verify = options.verify ?? true;
  if (!(threshold > 0 && threshold < 1)) {
    throw new RangeError(`minhashDedup: threshold is ${threshold}; expected a number in (0, 1)`);
  }
  const lsh = options.lsh ?? optimalLshParams(threshold, numPerm);
  if (lsh.bands * lsh.rows > numPerm) {
    throw new RangeError(
      `minhashDedup: lsh is ${lsh.bands} bands x ${lsh.rows} rows = ${lsh.bands * lsh.rows}; expected at most numPerm = ${numPerm}`,
    );
  }
  const hasher = new MinHasher(numPerm, options.seed ?? 1);
  const index = new MinHashLshIndex<number>(lsh);
  const kept: { id: string; signature: Uint32Array | undefined }[] = [];
  // Fails fast on a bad shingle size, before the first document.
  shingleHashes('', shingleSize);
  return {
    name: 'minhash-dedup',
    apply(doc) {
      const shingles = shingleHashes(doc.text, shingleSize);
      if (shingles.length === 0) return keep(doc);
      const signature = hasher.signature(shingles);
      for (const candidate of index.query(signature)) {
        const other = kept[candidate]!;
        if (!verify) return remove('near-duplicate', `shares an LSH band with ${other.id}`);
        const similarity = estimateJaccard(signature, other.signature!);
        if (similarity >= threshold) {
          return remove(
            'near-duplicate',
            `estimated Jaccard ${similarity.toFixed(3)} with ${other.id}`,
          );
        }
      }
      index.insert(kept.length, signature);
      kept.push({ id: doc.id, signature: verify ? signature : undefined });
      return keep(doc);
    },
  };
}
