/** Real and padded token counts of one batch. */
export interface TokenUsage {
  /** Tokens that belong to sequences. */
  realTokens: number;
  /** Tokens the batch occupies, padding included (rows x padded length). */
  paddedTokens: number;
}

/** Totals over many batches. */
export interface PaddingReport extends TokenUsage {
  /** Batches counted. */
  batches: number;
  /** Padding tokens: `paddedTokens - realTokens`. */
  paddingTokens: number;
  /** Share of the padded tokens that are padding, in [0, 1). */
  wasteFraction: number;
}

/**
 * Adds up how much of a set of batches is padding.
 *
 * @param batches - anything with real and padded token counts.
 * @returns the totals and the waste fraction (0 for no tokens).
 */
export function paddingReport(batches: Iterable<TokenUsage>): PaddingReport {
  let realTokens = 0;
  let paddedTokens = 0;
  let count = 0;
  for (const b of batches) {
    realTokens += b.realTokens;
    paddedTokens += b.paddedTokens;
    count++;
  }
  const paddingTokens = paddedTokens - realTokens;
  return {
    batches: count,
    realTokens,
    paddedTokens,
    paddingTokens,
    wasteFraction: paddedTokens === 0 ? 0 : paddingTokens / paddedTokens,
  };
}
