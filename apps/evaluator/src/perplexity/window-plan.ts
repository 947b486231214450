/**
 * The windows of Hugging Face's sliding-window perplexity: windows start every `stride` tokens
 * and span up to `context` tokens; each window scores only the tokens after the previous
 * window's end, so every token (after the first) is scored once, with at least
 * `context − stride` tokens of left context once the first window is past.
 */

/** One window: tokens [begin, end) go in; the targets at positions [scoreFrom, end) are scored. */
export interface ScoringWindow {
  begin: number;
  end: number;
  /** First scored position (a position p is predicted from positions begin..p−1). */
  scoreFrom: number;
}

/**
 * Plans the windows over a sequence of `length` tokens.
 *
 * @param length - tokens in the sequence.
 * @param context - most tokens per window (the model's input length).
 * @param stride - distance between window starts, 1 ≤ stride ≤ context.
 */
export function planWindows(length: number, context: number, stride: number): ScoringWindow[] {
  if (!Number.isInteger(context) || context < 2)
    throw new RangeError(`planWindows: context is ${context}; expected an integer >= 2`);
  if (!Number.isInteger(stride) || stride < 1 || stride > context)
    throw new RangeError(
      `planWindows: stride is ${stride}; expected an integer in [1, context = ${context}]`,
    );
  const windows: ScoringWindow[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < length; begin += stride) {
    const end = Math.min(begin + context, length);
    // Position `begin` has no left context inside the window, so it is never a target.
    const scoreFrom = Math.max(prevEnd, begin + 1);
    if (scoreFrom < end) windows.push({ begin, end, scoreFrom });
    prevEnd = end;
    if (end === length) break;
  }
  return windows;
}
