import type { TextDocument } from '../corpus/document.js';

/** What a cleaning step did to one document. */
export type StepOutcome<D extends TextDocument = TextDocument> =
  | { action: 'keep'; doc: D }
  | { action: 'change'; doc: D; reason: string; detail?: string }
  | { action: 'remove'; reason: string; detail?: string };

/**
 * One cleaning step. Steps see documents one at a time, in stream order; a step with memory
 * (deduplication) keeps what it needs between calls.
 *
 * `reason` is a short stable key that reports count by (`duplicate`, `low-entropy`,
 * `gopher:mean-word-length`); `detail` says what was measured, for the one document.
 */
export interface CleaningStep<D extends TextDocument = TextDocument> {
  /** Name shown in reports (`nfc`, `exact-dedup`, `minhash-dedup`). */
  readonly name: string;
  /**
   * Processes one document.
   *
   * @param doc - the document as left by the previous steps.
   * @returns keep, change (with the new document) or remove, with the reason.
   */
  apply(doc: D): StepOutcome<D>;
}

/** Shortcut for a step's `keep` outcome. */
export function keep<D extends TextDocument>(doc: D): StepOutcome<D> {
  return { action: 'keep', doc };
}

/** Shortcut for a step's `remove` outcome. */
export function remove<D extends TextDocument>(reason: string, detail?: string): StepOutcome<D> {
  return detail === undefined ? { action: 'remove', reason } : { action: 'remove', reason, detail };
}
