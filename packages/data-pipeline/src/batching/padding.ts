import type { TokenUsage } from './waste.js';

/** Options of {@link padBatch}. */
export interface PadOptions {
  /** Id written into padding positions (default 0). */
  padId?: number;
  /** Pad every row to this length (default: the longest sequence). */
  length?: number;
  /** Round the padded length up to a multiple of this (default 1), for kernel tiling. */
  multipleOf?: number;
  /** Put padding after (`right`, default) or before (`left`) each sequence. */
  side?: 'left' | 'right';
}

/** Sequences padded to one length, with an attention mask. */
export interface PaddedBatch extends TokenUsage {
  /** Token ids, `rows x length`, row-major. */
  tokens: Int32Array;
  /** 1 where a token is real, 0 where it is padding; same layout as `tokens`. */
  attentionMask: Uint8Array;
  /** Real length of each row. */
  lengths: Int32Array;
  /** Number of rows. */
  rows: number;
  /** Padded row length. */
  length: number;
}

/**
 * Pads sequences into one rectangular batch with an attention mask.
 *
 * @param sequences - token id sequences.
 * @param options - pad id, target length, rounding and side.
 * @returns the padded batch.
 */
export function padBatch(
  sequences: readonly ArrayLike<number>[],
  options: PadOptions = {},
): PaddedBatch {
  const { padId = 0, multipleOf = 1, side = 'right' } = options;
  if (!Number.isInteger(multipleOf) || multipleOf < 1) {
    throw new RangeError(`padBatch: options.multipleOf is ${multipleOf}; expected an integer >= 1`);
  }
  if (side !== 'left' && side !== 'right') {
    throw new TypeError(
      `padBatch: options.side is ${JSON.stringify(side)}; expected 'left' or 'right'`,
    );
  }
  const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  const wanted = options.length ?? longest;
  if (!Number.isInteger(wanted) || wanted < longest) {
    throw new RangeError(
      `padBatch: options.length is ${wanted}; expected an integer >= the longest sequence (${longest})`,
    );
  }
  const length = Math.ceil(wanted / multipleOf) * multipleOf;
  const rows = sequences.length;
  const tokens = new Int32Array(rows * length).fill(padId);
  const attentionMask = new Uint8Array(rows * length);
  const lengths = new Int32Array(rows);
  let realTokens = 0;
  sequences.forEach((seq, r) => {
    const offset = r * length + (side === 'left' ? length - seq.length : 0);
    for (let i = 0; i < seq.length; i++) tokens[offset + i] = seq[i]!;
    attentionMask.fill(1, offset, offset + seq.length);
    lengths[r] = seq.length;
    realTokens += seq.length;
  });
  return { tokens, attentionMask, lengths, rows, length, realTokens, paddedTokens: rows * length };
}
