/**
 * Corpus BLEU as sacreBLEU 2.x computes it (`metrics/bleu.py`): 13a tokenisation, n-gram
 * precisions clipped by the maximum count over references, the closest reference length for the
 * brevity penalty (the shorter one on ties), and the `exp` (NIST), `floor`, `add-k` or `none`
 * smoothing.
 */
import { pyRstrip, pySplit } from './python-whitespace.js';
import { tokenize13a } from './tokenizer-13a.js';

/** Smoothing methods of sacreBLEU. */
export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

/** Options of {@link corpusBleu}. */
export interface BleuOptions {
  /** `13a` (default, sacreBLEU's) or `none` (split on whitespace only). */
  tokenize?: '13a' | 'none';
  /** Smoothing (default `exp`, sacreBLEU's default). */
  smoothMethod?: BleuSmoothing;
  /** The value for `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue?: number;
  /** Lowercase before tokenising (default false). */
  lowercase?: boolean;
  /** Highest n-gram order (default 4). */
  maxNgramOrder?: number;
  /** Average only over orders that have n-grams (sacreBLEU's effective order; default false). */
  effectiveOrder?: boolean;
}

/** A BLEU score with its sufficient statistics (as sacreBLEU's `BLEUScore`). */
export interface BleuScore {
  /** BLEU on the 0–100 scale. */
  score: number;
  /** Matched n-grams per order. */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Precisions per order, in percent. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** Hypothesis length in tokens. */
  sysLen: number;
  /** Effective reference length in tokens. */
  refLen: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number | undefined> = {
  none: undefined,
  floor: 0.1,
  'add-k': 1,
  exp: undefined,
};

function ngramCounts(tokens: string[], maxOrder: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens hold no whitespace, so the number of spaces tells the order apart.
      const key = tokens.slice(i, i + n).join(' ');
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

function closestRefLen(hypLen: number, refLens: number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff) {
      bestDiff = diff;
      best = len;
    } else if (diff === bestDiff && len < best) {
      best = len;
    }
  }
  return best;
}

/**
 * BLEU from sufficient statistics (sacreBLEU's `BLEU.compute_bleu`).
 *
 * @param counts - matched n-grams per order.
 * @param totals - hypothesis n-grams per order.
 * @param sysLen - hypothesis length.
 * @param refLen - reference length.
 * @param options - smoothing and effective order.
 */
export function computeBleu(
  counts: readonly number[],
  totals: readonly number[],
  sysLen: number,
  refLen: number,
  options: Pick<BleuOptions, 'smoothMethod' | 'smoothValue' | 'effectiveOrder'> = {},
): BleuScore {
  const method = options.smoothMethod ?? 'none';
  if (!(method in SMOOTH_DEFAULTS)) {
    throw new RangeError(
      `computeBleu: smoothMethod is ${JSON.stringify(method)}; expected 'exp', 'floor', 'add-k' or 'none'`,
    );
  }
  if (counts.length !== totals.length) {
    throw new RangeError(
      `computeBleu: counts has ${counts.length} orders but totals has ${totals.length}; expected equal lengths`,
    );
  }
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const maxOrder = counts.length;
  const correct = [...counts];
  const total = [...totals];
  let bp = 1;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuScore => ({
    score,
    counts: correct,
    totals: total,
    precisions,
    bp,
    sysLen,
    refLen,
  });
  if (!correct.some((c) => c !== 0)) return result(0);
  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === 'add-k' && n > 1) {
      correct[n - 1]! += smoothValue;
      total[n - 1]! += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / total[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  // sacreBLEU's my_log: log(0) is a huge negative number, so any zero precision gives 0.
  const logSum = precisions
    .slice(0, effOrder)
    .reduce((s, p) => s + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return result(bp * Math.exp(logSum / effOrder));
}

/**
 * Corpus BLEU of `hypotheses` against one or more reference streams, as `sacrebleu.corpus_bleu`
 * (default options give sacreBLEU's default signature: 13a, exp smoothing, cased, 4-grams).
 *
 * @param hypotheses - one segment per line of output.
 * @param references - reference streams, each with one segment per hypothesis.
 * @param options - tokenisation, smoothing, case, n-gram order.
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuScore {
  if (references.length === 0) {
    throw new RangeError('corpusBleu: references is empty; expected at least one reference stream');
  }
  references.forEach((stream, i) => {
    if (stream.length !== hypotheses.length) {
      throw new RangeError(
        `corpusBleu: reference stream ${i} has ${stream.length} segments; expected ${hypotheses.length} (one per hypothesis)`,
      );
    }
  });
  const tokenizeName = options.tokenize ?? '13a';
  if (tokenizeName !== '13a' && tokenizeName !== 'none') {
    throw new RangeError(
      `corpusBleu: tokenize is ${JSON.stringify(tokenizeName)}; expected '13a' or 'none'`,
    );
  }
  const maxOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1) {
    throw new RangeError(`corpusBleu: maxNgramOrder is ${maxOrder}; expected a positive integer`);
  }
  const prep = (s: string): string[] => {
    const cased = options.lowercase ? s.toLowerCase() : s;
    const stripped = pyRstrip(cased);
    return pySplit(tokenizeName === '13a' ? tokenize13a(stripped) : stripped);
  };
  const counts = new Array<number>(maxOrder).fill(0);
  const totals = new Array<number>(maxOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
    const refNgrams = new Map<string, number>();
    const refLens: number[] = [];
    for (const stream of references) {
      const tokens = prep(stream[i]!);
      refLens.push(tokens.length);
      for (const [g, c] of ngramCounts(tokens, maxOrder)) {
        refNgrams.set(g, Math.max(refNgrams.get(g) ?? 0, c));
      }
    }
    const hypTokens = prep(hyp);
    sysLen += hypTokens.length;
    refLen += closestRefLen(hypTokens.length, refLens);
    for (const [g, c] of ngramCounts(hypTokens, maxOrder)) {
      const n = g.split(' ').length - 1;
      totals[n]! += c;
      counts[n]! += Math.min(c, refNgrams.get(g) ?? 0);
    }
  });
  return computeBleu(counts, totals, sysLen, refLen, {
    smoothMethod: options.smoothMethod ?? 'exp',
    ...(options.smoothValue === undefined ? {} : { smoothValue: options.smoothValue }),
    ...(options.effectiveOrder === undefined ? {} : { effectiveOrder: options.effectiveOrder }),
  });
}

/** Sentence BLEU (sacreBLEU's `sentence_score`): corpus BLEU of one segment. */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuScore {
  return corpusBleu(
    [hypothesis],
    references.map((r) => [r]),
    options,
  );
}

/** sacreBLEU's one-line summary: `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`. */
export function formatBleu(s: BleuScore): string {
  const ratio = s.refLen ? s.sysLen / s.refLen : 0;
  const prec = s.precisions.map((p) => p.toFixed(1)).join('/');
  return `BLEU = ${s.score.toFixed(2)} ${prec} (BP = ${s.bp.toFixed(3)} ratio = ${ratio.toFixed(3)} hyp_len = ${s.sysLen} ref_len = ${s.refLen})`;
}
