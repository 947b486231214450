import type { TextDocument } from '../corpus/document.js';
import { fnv1a64Hex } from '../hash/fnv1a.js';
import { keep, remove } from './step.js';
import type { CleaningStep } from './step.js';

/** Options of {@link exactDedup}. */
export interface ExactDedupOptions {
  /**
   * Compare texts after lower-casing and collapsing runs of white space (default `false`:
   * byte-identical texts only).
   */
  normalize?: boolean;
}

/**
 * A step that keeps the first of documents with identical text and removes the others.
 * Texts are compared through their 64-bit FNV-1a hash; with 2^64 values, a false match among
 * a billion distinct documents has probability about 3 %, so memory stays at one short key
 * per kept document.
 *
 * @param options - whether to normalise case and white space first.
 * @returns a step that removes repeats with reason `exact-duplicate`.
 */
export function exactDedup<D extends TextDocument>(
  options: ExactDedupOptions = {},
): CleaningStep<D> {
  const normalize = options.normalize ?? false;
  const firstSeen = new Map<string, string>();
  return {
    name: 'exact-dedup',
    apply(doc) {
      const text = normalize ? doc.text.toLowerCase().replace(/\s+/g, ' ').trim() : doc.text;
      const key = fnv1a64Hex(text);
      const first = firstSeen.get(key);
      if (first !== undefined) return remove('exact-duplicate', `same text as ${first}`);
      firstSeen.set(key, doc.id);
      return keep(doc);
    },
  };
}
