import { closeSync, openSync, readSync } from 'node:fs';

const NEWLINE = 0x0a;
const CHUNK = 1024;

/** A synset: a set of lemmas that share one meaning. */
export interface WordNetSynset {
  /** Byte offset of the synset in its data file (WordNet's synset id). */
  offset: number;
  /** Synset type: `n`, `v`, `a`, `s` (adjective satellite) or `r`. */
  type: string;
  /** Its lemmas, words joined by `_`, as written in WordNet (case kept). */
  lemmas: string[];
  /** Definition and examples. */
  gloss: string;
}

/**
 * Reads synsets from a `data.<pos>` file. WordNet's synset ids are byte offsets into the
 * file, so each synset is one positioned read; the 15 MB noun file is never loaded whole.
 * Parsed synsets are cached.
 */
export class WordNetDataFile {
  private fd: number | undefined;
  private readonly cache = new Map<number, WordNetSynset>();

  /** @param path - path of the data file. */
  constructor(readonly path: string) {}

  /**
   * Reads the synset at a byte offset.
   *
   * @param offset - a synset offset from an index entry.
   * @returns the synset.
   */
  synset(offset: number): WordNetSynset {
    const cached = this.cache.get(offset);
    if (cached) return cached;
    const fd = (this.fd ??= openSync(this.path, 'r'));
    let line = Buffer.alloc(0);
    for (let pos = offset; ; pos += CHUNK) {
      const chunk = Buffer.alloc(CHUNK);
      const read = readSync(fd, chunk, 0, CHUNK, pos);
      const nl = chunk.subarray(0, read).indexOf(NEWLINE);
      line = Buffer.concat([line, chunk.subarray(0, nl === -1 ? read : nl)]);
      if (nl !== -1 || read < CHUNK) break;
    }
    const synset = parseSynset(line.toString('latin1'), offset, this.path);
    this.cache.set(offset, synset);
    return synset;
  }

  /** Closes the file; a later read opens it again. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function parseSynset(line: string, offset: number, path: string): WordNetSynset {
  // synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ... | gloss
  const bar = line.indexOf(' | ');
  const fields = (bar === -1 ? line : line.slice(0, bar)).split(' ');
  if (Number(fields[0]) !== offset) {
    throw new Error(
      `WordNetDataFile: ${path} has no synset at byte ${offset}; found ${JSON.stringify(line.slice(0, 40))}`,
    );
  }
  const wordCount = parseInt(fields[3]!, 16);
  const lemmas: string[] = [];
  for (let i = 0; i < wordCount; i++) {
    // Adjectives may carry a syntactic marker: `galore(ip)`.
    lemmas.push(fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, ''));
  }
  return {
    offset,
    type: fields[2]!,
    lemmas,
    gloss: bar === -1 ? '' : line.slice(bar + 3).trim(),
  };
}
