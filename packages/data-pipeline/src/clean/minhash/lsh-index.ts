import { mix32 } from '../../hash/mix32.js';
import type { LshParams } from './lsh-params.js';

/**
 * An index of MinHash signatures split into bands: two signatures are candidates when they
 * agree on every row of at least one band. Band contents are hashed to 53-bit keys (two
 * independent 32-bit hashes), so unrelated bands collide with negligible probability even
 * in indexes of many millions of documents.
 *
 * @typeParam K - the key stored for each signature (a document index or id).
 */
export class MinHashLshIndex<K> {
  /** The banding in use. */
  readonly params: LshParams;
  private readonly tables: Map<number, K[]>[];

  /**
   * @param params - bands and rows; signatures must have at least `bands * rows` positions.
   */
  constructor(params: LshParams) {
    const { bands, rows } = params;
    if (!Number.isInteger(bands) || bands < 1 || !Number.isInteger(rows) || rows < 1) {
      throw new RangeError(
        `MinHashLshIndex: params is ${JSON.stringify(params)}; expected integer bands and rows >= 1`,
      );
    }
    this.params = { bands, rows };
    this.tables = Array.from({ length: bands }, () => new Map<number, K[]>());
  }

  /**
   * Adds a signature under a key.
   *
   * @param key - what {@link MinHashLshIndex.query} returns for this signature.
   * @param signature - a MinHash signature.
   */
  insert(key: K, signature: Uint32Array): void {
    this.checkLength(signature, 'insert');
    for (let b = 0; b < this.params.bands; b++) {
      const bandKey = this.bandKey(signature, b);
      const table = this.tables[b]!;
      const bucket = table.get(bandKey);
      if (bucket) bucket.push(key);
      else table.set(bandKey, [key]);
    }
  }

  /**
   * Keys of indexed signatures that share at least one band with `signature`.
   *
   * @param signature - a MinHash signature.
   * @returns the candidate keys, each once, in first-found order.
   */
  query(signature: Uint32Array): K[] {
    this.checkLength(signature, 'query');
    const found = new Set<K>();
    for (let b = 0; b < this.params.bands; b++) {
      const bucket = this.tables[b]!.get(this.bandKey(signature, b));
      if (bucket) for (const key of bucket) found.add(key);
    }
    return [...found];
  }

  private bandKey(signature: Uint32Array, band: number): number {
    const { rows } = this.params;
    let h1 = mix32(band + 0x6a09e667);
    let h2 = mix32(band + 0x3c6ef372);
    for (let r = band * rows, end = r + rows; r < end; r++) {
      const v = signature[r]!;
      h1 = mix32(h1 ^ v);
      h2 = mix32((h2 + Math.imul(v, 0x9e3779b1)) >>> 0);
    }
    return (h1 & 0x1fffff) * 0x100000000 + h2;
  }

  private checkLength(signature: Uint32Array, method: string): void {
    const need = this.params.bands * this.params.rows;
    if (signature.length < need) {
      throw new RangeError(
        `MinHashLshIndex.${method}: signature has length ${signature.length}; expected at least bands * rows = ${need}`,
      );
    }
  }
}
