// The BPE merge loop for one pre-token: start from single-byte tokens and repeatedly merge the
// adjacent pair with the smallest priority, leftmost first on ties (tiktoken's byte_pair_merge,
// Hugging Face's Word::merge_all). Short pieces use a flat array scan, which is fastest at the
// usual 2-20 bytes; long ones (whitespace runs, base64 blobs) use a heap so they stay
// O(n log n) instead of O(n^2).

import { MAX_TOKEN_ID, pairKey, type MergeTable } from './merge-table.js';
import { PairHeap } from './pair-heap.js';

/** Pieces longer than this many bytes use the heap-based loop. */
export const HEAP_MERGE_THRESHOLD = 128;

/**
 * Merges `bytes[0, length)` into token ids and appends them to `out`.
 *
 * @param byteToId - id of the single-byte token for each byte value
 */
export function bytePairMerge(
  bytes: Uint8Array,
  length: number,
  byteToId: Int32Array,
  table: MergeTable,
  out: number[],
): void {
  if (length > HEAP_MERGE_THRESHOLD) heapMerge(bytes, length, byteToId, table, out);
  else scanMerge(bytes, length, byteToId, table, out);
}

const NONE = Infinity;

/** O(n^2) flat-array loop; `rank[i]` is the packed merge of `(tok[i], tok[i + 1])`. */
export function scanMerge(
  bytes: Uint8Array,
  length: number,
  byteToId: Int32Array,
  table: MergeTable,
  out: number[],
): void {
  const tok: number[] = new Array<number>(length);
  for (let i = 0; i < length; i++) tok[i] = byteToId[bytes[i]!]!;
  const rank: number[] = new Array<number>(length);
  for (let i = 0; i + 1 < length; i++) rank[i] = table.get(pairKey(tok[i]!, tok[i + 1]!)) ?? NONE;
  rank[length - 1] = NONE;
  let n = length;
  while (n > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i + 1 < n; i++) {
      if (rank[i]! < best) {
        best = rank[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    tok[at] = best % MAX_TOKEN_ID;
    tok.splice(at + 1, 1);
    rank.splice(at + 1, 1);
    n--;
    rank[at] = at + 1 < n ? (table.get(pairKey(tok[at]!, tok[at + 1]!)) ?? NONE) : NONE;
    if (at > 0) rank[at - 1] = table.get(pairKey(tok[at - 1]!, tok[at]!)) ?? NONE;
  }
  for (let i = 0; i < n; i++) out.push(tok[i]!);
}

/**
 * O(n log n) loop over a doubly linked list of parts with a min-heap of candidate merges,
 * ordered by (packed merge, position). Entries go stale when a neighbour changes; a stale entry
 * is recognised because the pair at its position no longer yields the same packed merge.
 */
export function heapMerge(
  bytes: Uint8Array,
  length: number,
  byteToId: Int32Array,
  table: MergeTable,
  out: number[],
): void {
  const tok = new Int32Array(length);
  const next = new Int32Array(length);
  const prev = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    tok[i] = byteToId[bytes[i]!]!;
    next[i] = i + 1 < length ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new PairHeap();
  const pairAt = (i: number): number => {
    const j = next[i]!;
    return j < 0 ? NONE : (table.get(pairKey(tok[i]!, tok[j]!)) ?? NONE);
  };
  for (let i = 0; i + 1 < length; i++) {
    const r = pairAt(i);
    if (r !== NONE) heap.push(r, i);
  }
  const alive = new Uint8Array(length).fill(1);
  while (heap.size > 0) {
    const rank = heap.topPrimary();
    const at = heap.topSecondary();
    heap.pop();
    if (alive[at] === 0 || pairAt(at) !== rank) continue;
    const right = next[at]!;
    tok[at] = rank % MAX_TOKEN_ID;
    alive[right] = 0;
    const after = next[right]!;
    next[at] = after;
    if (after >= 0) prev[after] = at;
    const r = pairAt(at);
    if (r !== NONE) heap.push(r, at);
    const before = prev[at]!;
    if (before >= 0) {
      const rb = pairAt(before);
      if (rb !== NONE) heap.push(rb, before);
    }
  }
  for (let i = 0; i >= 0; i = next[i]!) out.push(tok[i]!);
}
