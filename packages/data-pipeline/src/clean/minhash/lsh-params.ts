/** A banding of a MinHash signature for locality-sensitive hashing. */
export interface LshParams {
  /** Number of bands. */
  bands: number;
  /** Signature positions per band. */
  rows: number;
}

/**
 * Probability that two sets of Jaccard similarity `s` share at least one band, i.e. become a
 * candidate pair: `1 - (1 - s^rows)^bands`.
 *
 * @param s - Jaccard similarity in [0, 1].
 * @param params - the banding.
 * @returns the candidate probability.
 */
export function lshCandidateProbability(s: number, { bands, rows }: LshParams): number {
  return 1 - (1 - s ** rows) ** bands;
}

function integrate(f: (x: number) => number, a: number, b: number): number {
  // Composite Simpson's rule; the integrands are smooth polynomials.
  const n = 200;
  const h = (b - a) / n;
  let sum = f(a) + f(b);
  for (let i = 1; i < n; i++) sum += f(a + i * h) * (i % 2 === 1 ? 4 : 2);
  return (sum * h) / 3;
}

/**
 * The banding that minimises the weighted area of false positives (pairs below the threshold
 * that become candidates) and false negatives (pairs above it that do not), over all
 * `bands * rows <= numPerm`: the rule of the `datasketch` library that BigCode's and many
 * other deduplication pipelines use.
 *
 * @param threshold - the Jaccard similarity that should separate duplicates, in (0, 1).
 * @param numPerm - signature length.
 * @param weights - relative cost of false positives and false negatives (default 0.5 each).
 * @returns the best banding.
 */
export function optimalLshParams(
  threshold: number,
  numPerm: number,
  weights: { falsePositive?: number; falseNegative?: number } = {},
): LshParams {
  if (!(threshold > 0 && threshold < 1)) {
    throw new RangeError(
      `optimalLshParams: threshold is ${threshold}; expected a number in (0, 1)`,
    );
  }
  if (!Number.isInteger(numPerm) || numPerm < 1) {
    throw new RangeError(`optimalLshParams: numPerm is ${numPerm}; expected an integer >= 1`);
  }
  const wfp = weights.falsePositive ?? 0.5;
  const wfn = weights.falseNegative ?? 0.5;
  let best: LshParams = { bands: 1, rows: numPerm };
  let bestError = Infinity;
  for (let bands = 1; bands <= numPerm; bands++) {
    for (let rows = 1; bands * rows <= numPerm; rows++) {
      const p = { bands, rows };
      const fp = integrate((s) => lshCandidateProbability(s, p), 0, threshold);
      const fn = integrate((s) => 1 - lshCandidateProbability(s, p), threshold, 1);
      const error = wfp * fp + wfn * fn;
      if (error < bestError) {
        bestError = error;
        best = p;
      }
    }
  }
  return best;
}
