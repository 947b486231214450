import type { TextDocument } from '../corpus/document.js';
import { keep } from './step.js';
import type { CleaningStep } from './step.js';

/** A Unicode normalisation form accepted by `String.prototype.normalize`. */
export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

const FORMS: readonly UnicodeForm[] = ['NFC', 'NFD', 'NFKC', 'NFKD'];

/**
 * A step that rewrites each document in one Unicode normalisation form. NFC (the default) only
 * composes characters; NFKC also folds compatibility characters (full-width letters, ligatures,
 * superscripts) to their plain forms, which helps deduplication and tokenisation of web text.
 *
 * @param form - the normalisation form (default `NFC`).
 * @returns a step that reports each changed document with reason `unicode-<form>`.
 */
export function unicodeNormalization<D extends TextDocument>(
  form: UnicodeForm = 'NFC',
): CleaningStep<D> {
  if (!FORMS.includes(form)) {
    throw new TypeError(
      `unicodeNormalization: form is ${JSON.stringify(form)}; expected one of ${FORMS.join(', ')}`,
    );
  }
  const reason = `unicode-${form.toLowerCase()}`;
  return {
    name: form.toLowerCase(),
    apply(doc) {
      const text = doc.text.normalize(form);
      if (text === doc.text) return keep(doc);
      return {
        action: 'change',
        doc: { ...doc, text },
        reason,
        detail: `length ${doc.text.length} -> ${text.length}`,
      };
    },
  };
}
