import type { DocumentSource, TextDocument } from '../corpus/document.js';
import { deriveSeed } from '../random/seed.js';
import { Xoshiro128 } from '../random/xoshiro128.js';
import type { TextAugmentation } from './augmentation.js';

/**
 * Applies augmentations in order to one text, all driven by one generator seeded with `seed`.
 *
 * @param text - the text.
 * @param augmentations - applied in order.
 * @param seed - a non-negative safe integer.
 * @returns the augmented text.
 */
export async function augmentText(
  text: string,
  augmentations: readonly TextAugmentation[],
  seed: number,
): Promise<string> {
  const rng = new Xoshiro128(seed);
  let out = text;
  for (const a of augmentations) out = await a.apply(out, rng);
  return out;
}

/** Options of {@link augmentDocuments}. */
export interface AugmentDocumentsOptions {
  /** Base seed; document `i`, copy `c` uses `deriveSeed(seed, i, c)`. */
  seed: number;
  /** Augmented copies per document (default 1). */
  copies?: number;
  /** Also yield each original document before its copies (default `true`). */
  keepOriginal?: boolean;
}

/** Metadata added to augmented copies. */
export interface AugmentedMeta {
  /** Id of the document the copy was made from. */
  augmentedFrom: string;
  /** Names of the augmentations applied. */
  augmentations: string[];
}

/**
 * Yields each document followed by augmented copies with ids `<id>#aug<c>`. Every copy's
 * randomness depends only on the seed, the document's position in the stream and the copy
 * number, so the output is the same on every run.
 *
 * @param docs - the documents.
 * @param augmentations - applied in order to each copy.
 * @param options - seed, copies, and whether to keep originals.
 * @returns the documents and their copies.
 */
export async function* augmentDocuments<D extends TextDocument>(
  docs: DocumentSource<D>,
  augmentations: readonly TextAugmentation[],
  options: AugmentDocumentsOptions,
): AsyncGenerator<D | (D & { meta: AugmentedMeta })> {
  const copies = options.copies ?? 1;
  if (!Number.isInteger(copies) || copies < 0) {
    throw new RangeError(`augmentDocuments: copies is ${copies}; expected an integer >= 0`);
  }
  const names = augmentations.map((a) => a.name);
  let index = 0;
  for await (const doc of docs) {
    if (options.keepOriginal ?? true) yield doc;
    for (let c = 0; c < copies; c++) {
      const text = await augmentText(doc.text, augmentations, deriveSeed(options.seed, index, c));
      yield {
        ...doc,
        id: `${doc.id}#aug${c}`,
        text,
        meta: { ...(doc.meta as object | undefined), augmentedFrom: doc.id, augmentations: names },
      };
    }
    index++;
  }
}
