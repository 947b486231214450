/** The unigram baseline: the entropy of a token stream's own unigram distribution. */

/**
 * Entropy, in nats, of the empirical unigram distribution of `counts`. No model that ignores
 * context can reach a lower cross-entropy on the same tokens, so a language model whose
 * validation loss sits well below it has learned to use context.
 */
export function unigramEntropy(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0)
    throw new RangeError('unigramEntropy: counts are all zero; expected some tokens');
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0) h -= (c / total) * Math.log(c / total);
  }
  return h;
}
