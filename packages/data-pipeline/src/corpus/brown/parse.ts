/** One word of the tagged Brown corpus with its part-of-speech tag. */
export interface BrownToken {
  /** The word as printed (`Atlanta's`, `,`, ``` `` ```). */
  word: string;
  /** The Brown tag, with any `-hl`/`-tl`/`-nc`/`-fw` suffix (`np$`, `nn-tl`). */
  tag: string;
}

/** A sentence: the tokens of one line of a corpus file. */
export type BrownSentence = BrownToken[];

/** A paragraph: sentences between blank lines (NLTK's reading of the files). */
export type BrownParagraph = BrownSentence[];

/**
 * Parses one file of the tagged Brown corpus (form C: `word/tag` separated by white space,
 * one sentence per line, paragraphs separated by blank lines).
 *
 * Words may contain slashes (`1-1/2/cd`), so a token is split at its last slash.
 *
 * @param raw - the file's contents.
 * @returns the paragraphs, each a list of sentences.
 */
export function parseBrownTagged(raw: string): BrownParagraph[] {
  const paragraphs: BrownParagraph[] = [];
  let current: BrownParagraph = [];
  for (const line of raw.split('\n')) {
    const pieces = line.trim().split(/\s+/);
    const sentence: BrownSentence = [];
    for (const piece of pieces) {
      const slash = piece.lastIndexOf('/');
      if (slash <= 0) continue; // blank line, or a stray slash with no word
      sentence.push({ word: piece.slice(0, slash), tag: piece.slice(slash + 1) });
    }
    if (sentence.length > 0) {
      current.push(sentence);
    } else if (current.length > 0) {
      paragraphs.push(current);
      current = [];
    }
  }
  if (current.length > 0) paragraphs.push(current);
  return paragraphs;
}
