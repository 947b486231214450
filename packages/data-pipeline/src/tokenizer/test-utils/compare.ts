// Comparing long id arrays without handing vitest a million-element diff.

/** Describes the first difference between two id arrays, or returns undefined if equal. */
export function firstDifference(
  ours: readonly number[],
  reference: readonly number[],
): string | undefined {
  const n = Math.min(ours.length, reference.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== reference[i]) {
      const from = Math.max(0, i - 3);
      return (
        `differs at index ${i}: ours [${ours.slice(from, i + 4).join(', ')}] vs ` +
        `reference [${reference.slice(from, i + 4).join(', ')}] (from index ${from})`
      );
    }
  }
  if (ours.length !== reference.length) {
    return `lengths differ: ours ${ours.length} vs reference ${reference.length}`;
  }
  return undefined;
}
