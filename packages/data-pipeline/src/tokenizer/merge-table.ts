// The pair table that drives BPE encoding: (left id, right id) -> merge priority and merged id.
// Keys and values are packed into doubles (ids < 2^21) so one Map lookup answers both questions
// and comparing packed values compares priorities.

/** Ids (and merge priorities) must stay below this bound so that pairs pack into a double. */
export const MAX_TOKEN_ID = 1 << 21;

/** `left * MAX_TOKEN_ID + right`. */
export function pairKey(left: number, right: number): number {
  return left * MAX_TOKEN_ID + right;
}

/**
 * Maps adjacent token pairs (keyed by {@link pairKey}) to their merge. The packed value is
 * `priority * MAX_TOKEN_ID + mergedId`; a smaller value merges first.
 */
export interface MergeTable {
  get(pair: number): number | undefined;
}

/** Latin-1 string of a byte array: one char per byte, used as a Map key for byte strings. */
export function bytesKey(bytes: Uint8Array, length = bytes.length): string {
  let key = '';
  for (let i = 0; i < length; i += 4096) {
    key += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(length, i + 4096)) as never);
  }
  return key;
}

/**
 * tiktoken's rule: any two adjacent tokens whose concatenation is a token merge, with that
 * token's rank (its id) as priority.
 */
export function mergeTableFromRanks(
  tokenKeys: ReadonlyArray<string | undefined>,
  keyToId: ReadonlyMap<string, number>,
): Map<number, number> {
  const table = new Map<number, number>();
  for (let id = 0; id < tokenKeys.length; id++) {
    const key = tokenKeys[id];
    if (key === undefined || key.length < 2) continue;
    for (let split = 1; split < key.length; split++) {
      const left = keyToId.get(key.slice(0, split));
      if (left === undefined) continue;
      const right = keyToId.get(key.slice(split));
      if (right === undefined) continue;
      table.set(pairKey(left, right), id * MAX_TOKEN_ID + id);
    }
  }
  return table;
}

/**
 * tiktoken's rule evaluated on demand: a pair's merge is looked up (by concatenating the two
 * tokens' bytes) the first time it is needed and remembered. Building the whole table up front
 * costs about a second for cl100k_base; encoding only ever meets a fraction of its pairs.
 */
export class LazyRankMergeTable implements MergeTable {
  private readonly known = new Map<number, number>();

  constructor(
    private readonly tokenKeys: ReadonlyArray<string | undefined>,
    private readonly keyToId: ReadonlyMap<string, number>,
  ) {}

  get(pair: number): number | undefined {
    const hit = this.known.get(pair);
    if (hit !== undefined) return hit < 0 ? undefined : hit;
    const left = this.tokenKeys[Math.floor(pair / MAX_TOKEN_ID)];
    const right = this.tokenKeys[pair % MAX_TOKEN_ID];
    const merged =
      left === undefined || right === undefined ? undefined : this.keyToId.get(left + right);
    const value = merged === undefined ? -1 : merged * MAX_TOKEN_ID + merged;
    this.known.set(pair, value);
    return merged === undefined ? undefined : value;
  }
}

/**
 * Hugging Face's rule: only the listed pairs merge, earlier entries first; the merged token is the
 * one whose bytes are the concatenation.
 */
export function mergeTableFromList(
  merges: ReadonlyArray<readonly [number, number]>,
  tokenKeys: ReadonlyArray<string | undefined>,
  keyToId: ReadonlyMap<string, number>,
): MergeTable {
  if (merges.length >= MAX_TOKEN_ID) {
    throw new Error(`merges: ${merges.length} merges; at most ${MAX_TOKEN_ID - 1} are supported`);
  }
  const table = new Map<number, number>();
  for (let i = 0; i < merges.length; i++) {
    const [left, right] = merges[i]!;
    const leftKey = tokenKeys[left];
    const rightKey = tokenKeys[right];
    if (leftKey === undefined || rightKey === undefined) {
      throw new Error(
        `merges[${i}]: pair [${left}, ${right}] names id ${leftKey === undefined ? left : right}, ` +
          `which is not an ordinary token`,
      );
    }
    const merged = keyToId.get(leftKey + rightKey);
    if (merged === undefined) {
      throw new Error(
        `merges[${i}]: pair [${left}, ${right}] joins to bytes that are not a token in the vocabulary`,
      );
    }
    const key = pairKey(left, right);
    if (!table.has(key)) table.set(key, i * MAX_TOKEN_ID + merged);
  }
  return table;
}
