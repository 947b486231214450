/**
 * Accuracy and F1 for single-label classification, with scikit-learn's conventions: the label set
 * is the union of gold and predicted labels, and a precision or recall with a zero denominator
 * counts as 0.
 */

/** Precision, recall and F1 of one class. */
export interface ClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Gold examples of this class. */
  support: number;
}

/** The metrics of one set of predictions. */
export interface ClassificationMetrics {
  /** Examples scored. */
  count: number;
  /** Share of predictions equal to the gold label. */
  accuracy: number;
  /** Unweighted mean of per-class F1. */
  macroF1: number;
  /** F1 of the pooled true/false positives and negatives. */
  microF1: number;
  /** Per-class scores, labels sorted. */
  perClass: ClassScores[];
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Accuracy and macro/micro F1 of `predicted` against `gold`.
 *
 * @param gold - the true label of each example.
 * @param predicted - the predicted label of each example (same length).
 */
export function classificationMetrics(
  gold: readonly string[],
  predicted: readonly string[],
): ClassificationMetrics {
  if (gold.length !== predicted.length) {
    throw new RangeError(
      `classificationMetrics: predicted has ${predicted.length} labels; expected ${gold.length} (one per gold label)`,
    );
  }
  const labels = [...new Set([...gold, ...predicted])].sort();
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  let correct = 0;
  gold.forEach((g, i) => {
    const p = predicted[i]!;
    if (g === p) {
      correct++;
      bump(tp, g);
    } else {
      bump(fp, p);
      bump(fn, g);
    }
  });
  const perClass = labels.map((label) => {
    const t = tp.get(label) ?? 0;
    const precision = ratio(t, t + (fp.get(label) ?? 0));
    const recall = ratio(t, t + (fn.get(label) ?? 0));
    return {
      label,
      precision,
      recall,
      f1: f1(precision, recall),
      support: t + (fn.get(label) ?? 0),
    };
  });
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const microP = ratio(sum(tp), sum(tp) + sum(fp));
  const microR = ratio(sum(tp), sum(tp) + sum(fn));
  return {
    count: gold.length,
    accuracy: ratio(correct, gold.length),
    macroF1: ratio(
      perClass.reduce((s, c) => s + c.f1, 0),
      perClass.length,
    ),
    microF1: f1(microP, microR),
    perClass,
  };
}
