import type { TokenUsage } from './waste.js';

/** Options of {@link packSequences}. */
export interface PackOptions {
  /** Tokens per packed row. */
  sequenceLength: number;
  /** Id written into unused positions (default 0). */
  padId?: number;
  /**
   * `first-fit-decreasing` (default): longest sequences first, each into the first row with
   * room, which leaves little padding. `in-order`: rows are filled in input order and a row is
   * closed when the next sequence does not fit, which keeps documents in sequence.
   */
  strategy?: 'first-fit-decreasing' | 'in-order';
  /** Sequences longer than a row are cut into row-sized pieces (default `true`); otherwise an error. */
  splitLong?: boolean;
}

/** Sequences packed into rows of one length, with document boundaries. */
export interface PackedBatch extends TokenUsage {
  /** Token ids, `rows x sequenceLength`, row-major. */
  tokens: Int32Array;
  /**
   * Which document each position belongs to: 1, 2, ... within each row, 0 for padding.
   * Attention should connect positions of one row only when their segment ids are equal and
   * non-zero (see {@link segmentAttentionMask}).
   */
  segmentIds: Int32Array;
  /** Position of each token within its document (restarting at 0), for positional encodings. */
  positions: Int32Array;
  /** For each placed piece: the input sequence it came from, its row and first column. */
  placements: { sequence: number; row: number; column: number; length: number }[];
  /** Number of rows. */
  rows: number;
  /** Tokens per row. */
  sequenceLength: number;
}

/**
 * Packs several sequences into each row so that little of a batch is padding, and records
 * where each document starts and ends so attention and positions can respect the boundaries.
 *
 * @param sequences - token id sequences.
 * @param options - row length, padding id, strategy.
 * @returns the packed rows.
 */
export function packSequences(
  sequences: readonly ArrayLike<number>[],
  options: PackOptions,
): PackedBatch {
  const L = options.sequenceLength;
  if (!Number.isInteger(L) || L < 1) {
    throw new RangeError(`packSequences: options.sequenceLength is ${L}; expected an integer >= 1`);
  }
  const strategy = options.strategy ?? 'first-fit-decreasing';
  if (strategy !== 'first-fit-decreasing' && strategy !== 'in-order') {
    throw new TypeError(
      `packSequences: options.strategy is ${JSON.stringify(strategy)}; expected 'first-fit-decreasing' or 'in-order'`,
    );
  }
  // Pieces: [sequence index, offset, length].
  const pieces: [number, number, number][] = [];
  sequences.forEach((seq, i) => {
    if (seq.length > L && options.splitLong === false) {
      throw new RangeError(
        `packSequences: sequences[${i}] has length ${seq.length}; expected at most sequenceLength ${L} (or splitLong: true)`,
      );
    }
    for (let off = 0; off < seq.length; off += L)
      pieces.push([i, off, Math.min(L, seq.length - off)]);
  });
  const order = pieces.map((_, i) => i);
  const rowOf = new Int32Array(pieces.length);
  const columnOf = new Int32Array(pieces.length);
  let rows = 0;
  if (strategy === 'in-order') {
    let used = L;
    for (const p of order) {
      const len = pieces[p]![2];
      if (used + len > L) {
        rows++;
        used = 0;
      }
      rowOf[p] = rows - 1;
      columnOf[p] = used;
      used += len;
    }
  } else {
    order.sort((a, b) => pieces[b]![2] - pieces[a]![2] || a - b);
    const bins = new FirstFitBins(pieces.length, L);
    for (const p of order) {
      const len = pieces[p]![2];
      const bin = bins.place(len);
      rowOf[p] = bin;
      columnOf[p] = L - bins.remaining(bin) - len;
    }
    rows = bins.count;
  }
  const tokens = new Int32Array(rows * L).fill(options.padId ?? 0);
  const segmentIds = new Int32Array(rows * L);
  const positions = new Int32Array(rows * L);
  const segmentsInRow = new Int32Array(rows);
  const placements: PackedBatch['placements'] = [];
  let realTokens = 0;
  // Fill in column order within each row so segment ids increase left to right.
  const byPosition = pieces
    .map((_, i) => i)
    .sort((a, b) => rowOf[a]! - rowOf[b]! || columnOf[a]! - columnOf[b]!);
  for (const p of byPosition) {
    const [seqIndex, offset, len] = pieces[p]!;
    const seq = sequences[seqIndex]!;
    const row = rowOf[p]!;
    const base = row * L + columnOf[p]!;
    const segment = ++segmentsInRow[row]!;
    for (let k = 0; k < len; k++) {
      tokens[base + k] = seq[offset + k]!;
      positions[base + k] = k;
    }
    segmentIds.fill(segment, base, base + len);
    placements.push({ sequence: seqIndex, row, column: columnOf[p]!, length: len });
    realTokens += len;
  }
  return {
    tokens,
    segmentIds,
    positions,
    placements,
    rows,
    sequenceLength: L,
    realTokens,
    paddedTokens: rows * L,
  };
}

/**
 * The attention mask of one packed row: position i may attend to position j when j <= i
 * (causal) and both belong to the same document (equal, non-zero segment ids).
 *
 * @param segmentIds - the row's segment ids (or all rows, with `row`).
 * @param sequenceLength - tokens per row.
 * @param row - which row of `segmentIds` (default 0).
 * @returns `sequenceLength x sequenceLength` entries, 1 where attention is allowed.
 */
export function segmentAttentionMask(
  segmentIds: Int32Array,
  sequenceLength: number,
  row = 0,
): Uint8Array {
  const L = sequenceLength;
  if ((row + 1) * L > segmentIds.length) {
    throw new RangeError(
      `segmentAttentionMask: row ${row} of length ${L} lies outside segmentIds of length ${segmentIds.length}`,
    );
  }
  const seg = segmentIds.subarray(row * L, (row + 1) * L);
  const mask = new Uint8Array(L * L);
  for (let i = 0; i < L; i++) {
    const s = seg[i]!;
    if (s === 0) continue;
    // Segments are contiguous, so walk back from i while the segment holds.
    for (let j = i; j >= 0 && seg[j] === s; j--) mask[i * L + j] = 1;
  }
  return mask;
}

/**
 * First-fit bin packing in O(log n) per item: a max-tree over the remaining capacity of the
 * bins finds the leftmost bin with room.
 */
class FirstFitBins {
  private readonly size: number;
  private readonly tree: Float64Array;
  count = 0;

  constructor(maxBins: number, capacity: number) {
    let size = 1;
    while (size < Math.max(1, maxBins)) size *= 2;
    this.size = size;
    // Unopened bins have full capacity, so the leftmost fitting bin is an open one if any fits.
    this.tree = new Float64Array(2 * size).fill(capacity);
  }

  remaining(bin: number): number {
    return this.tree[this.size + bin]!;
  }

  place(length: number): number {
    let node = 1;
    while (node < this.size) {
      node = this.tree[2 * node]! >= length ? 2 * node : 2 * node + 1;
    }
    const bin = node - this.size;
    this.count = Math.max(this.count, bin + 1);
    this.tree[node] = this.tree[node]! - length;
    for (node >>= 1; node >= 1; node >>= 1) {
      this.tree[node] = Math.max(this.tree[2 * node]!, this.tree[2 * node + 1]!);
    }
    return bin;
  }
}
