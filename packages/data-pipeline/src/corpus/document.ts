/**
 * One document of a text corpus, the unit that cleaning, augmentation and shard writing work on.
 *
 * @typeParam M - the type of the per-document metadata (default `unknown`, so that documents
 *   with any metadata type are `TextDocument`s).
 */
export interface TextDocument<M = unknown> {
  /** Identifier, unique within its corpus (reports and reasons refer to it). */
  id: string;
  /** The document's plain text. */
  text: string;
  /** Free-form metadata (source, category, split, ...), carried through every step. */
  meta?: M;
}

/** A sequence of documents that may be produced synchronously or asynchronously. */
export type DocumentSource<D extends TextDocument = TextDocument> = Iterable<D> | AsyncIterable<D>;
