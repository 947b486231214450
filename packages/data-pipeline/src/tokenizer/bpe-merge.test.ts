import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { heapMerge, scanMerge } from './bpe-merge.js';
import { MAX_TOKEN_ID, pairKey } from './merge-table.js';

// A direct reference: repeatedly find the lowest-priority adjacent pair (leftmost on ties) by
// scanning, merge it, and start over.
function referenceMerge(bytes: number[], merges: Map<string, [number, number]>): number[] {
  const parts = [...bytes];
  for (;;) {
    let best: [number, number] | undefined;
    let at = -1;
    for (let i = 0; i + 1 < parts.length; i++) {
      const m = merges.get(`${parts[i]},${parts[i + 1]}`);
      if (m !== undefined && (best === undefined || m[0] < best[0])) {
        best = m;
        at = i;
      }
    }
    if (best === undefined) return parts;
    parts.splice(at, 2, best[1]);
  }
}

// Random merge rules over a 4-letter byte alphabet: rule i merges two existing ids into 256 + i.
const rules = fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 40 });
const text = fc.array(fc.constantFrom(97, 98, 99, 100), { maxLength: 300 });

describe('byte pair merge loops', () => {
  it('scan and heap loops both equal the direct reference', () => {
    fc.assert(
      fc.property(rules, text, (raw, bytes) => {
        const ids = [97, 98, 99, 100];
        const table = new Map<number, number>();
        const reference = new Map<string, [number, number]>();
        raw.forEach(([a, b], i) => {
          const left = ids[a % ids.length]!;
          const right = ids[b % ids.length]!;
          const merged = 256 + i;
          if (!table.has(pairKey(left, right))) {
            table.set(pairKey(left, right), i * MAX_TOKEN_ID + merged);
            reference.set(`${left},${right}`, [i, merged]);
          }
          ids.push(merged);
        });
        const byteToId = Int32Array.from({ length: 256 }, (_, b) => b);
        const input = Uint8Array.from(bytes);
        const expected = referenceMerge(bytes, reference);
        const viaScan: number[] = [];
        scanMerge(input, input.length, byteToId, table, viaScan);
        const viaHeap: number[] = [];
        if (input.length > 0) heapMerge(input, input.length, byteToId, table, viaHeap);
        expect(viaScan).toEqual(expected);
        expect(viaHeap).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
