import { readFileSync } from 'node:fs';

const NEWLINE = 0x0a;
const SPACE = 0x20;

/** One line of a WordNet `index.<pos>` file: a lemma and the synsets it belongs to. */
export interface WordNetIndexEntry {
  /** The lemma, lower case, words joined by `_`. */
  lemma: string;
  /** Byte offsets of its synsets in the matching `data.<pos>` file, most frequent sense first. */
  synsetOffsets: number[];
}

/**
 * Reads an `index.<pos>` file. The file (0.2 to 4.8 MB) is loaded as bytes on the first
 * lookup and searched by bisection over its sorted lines, so nothing is parsed up front and
 * a lookup costs about 17 line comparisons.
 */
export class WordNetIndexFile {
  private bytes: Buffer | undefined;
  private readonly encoder = new TextEncoder();

  /** @param path - path of the index file. */
  constructor(readonly path: string) {}

  /**
   * Finds a lemma.
   *
   * @param lemma - lower case, words joined by `_`.
   * @returns the entry, or `undefined` when the lemma is absent.
   */
  lookup(lemma: string): WordNetIndexEntry | undefined {
    if (lemma.length === 0 || lemma.includes(' ')) return undefined;
    const bytes = (this.bytes ??= readFileSync(this.path));
    const key = this.encoder.encode(lemma);
    let lo = 0;
    let hi = bytes.length;
    // Invariant: any line starting at or after `lo` and before `hi` may match. Each probe
    // moves to the start of the line containing the midpoint.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let start = mid;
      while (start > lo && bytes[start - 1] !== NEWLINE) start--;
      let end = bytes.indexOf(NEWLINE, start);
      if (end === -1) end = bytes.length;
      const cmp = compareLemma(bytes, start, end, key);
      if (cmp === 0) return parseEntry(bytes.toString('latin1', start, end));
      if (cmp < 0) lo = end + 1;
      else hi = start;
    }
    return undefined;
  }
}

// Compares the first field of the line [start, end) with key, as bytes. License lines start
// with a space, which sorts before every lemma character, so they order before all lemmas.
function compareLemma(bytes: Buffer, start: number, end: number, key: Uint8Array): number {
  if (bytes[start] === SPACE) return -1;
  let i = 0;
  for (; start + i < end && bytes[start + i] !== SPACE; i++) {
    if (i >= key.length) return 1;
    const d = bytes[start + i]! - key[i]!;
    if (d !== 0) return d;
  }
  return i === key.length ? 0 : -1;
}

function parseEntry(line: string): WordNetIndexEntry {
  // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
  const f = line.trim().split(' ');
  const synsetCount = Number(f[2]);
  const pointerCount = Number(f[3]);
  const first = 4 + pointerCount + 2;
  return {
    lemma: f[0]!,
    synsetOffsets: f.slice(first, first + synsetCount).map(Number),
  };
}
