import { fnv1a64Hex } from '../../hash/fnv1a.js';

/** Which part of a corpus a document belongs to. */
export type CorpusSplit = 'train' | 'validation';

/** Default salt of {@link assignSplits}; changing it gives a different, equally valid split. */
export const DEFAULT_SPLIT_SALT = 'fathom-brown-v1';

/**
 * Assigns documents to train and validation, deterministically and stratified by group.
 *
 * Within each group (a Brown genre) the ids are ordered by the 64-bit FNV-1a hash of
 * `salt + id` and the first `round(n * validationFraction)` go to validation, at least one
 * and at most `n - 1` when the group has two or more documents. The result depends only on
 * the ids, not on the order they are listed in, and every genre appears in both splits.
 *
 * @param ids - document ids with their group.
 * @param validationFraction - share of each group for validation, in [0, 1).
 * @param salt - mixed into the hash.
 * @returns the split of every id.
 */
export function assignSplits(
  ids: readonly { id: string; group: string }[],
  validationFraction: number,
  salt: string = DEFAULT_SPLIT_SALT,
): Map<string, CorpusSplit> {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(
      `assignSplits: validationFraction is ${validationFraction}; expected a number in [0, 1)`,
    );
  }
  const groups = new Map<string, { id: string; key: string }[]>();
  for (const { id, group } of ids) {
    let list = groups.get(group);
    if (!list) groups.set(group, (list = []));
    list.push({ id, key: fnv1a64Hex(salt + id) });
  }
  const splits = new Map<string, CorpusSplit>();
  for (const list of groups.values()) {
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
    let count = Math.round(list.length * validationFraction);
    if (validationFraction > 0 && list.length >= 2) {
      count = Math.min(Math.max(count, 1), list.length - 1);
    }
    list.forEach(({ id }, i) => splits.set(id, i < count ? 'validation' : 'train'));
  }
  return splits;
}
