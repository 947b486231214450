// Pre-tokenisation: split a text segment into pieces that BPE encodes independently. Each
// pattern splits with Hugging Face's "Isolated" behaviour (matches are pieces, and so is any
// text between matches); a sequence of patterns splits each piece of the previous one again.
// For patterns that match every character (GPT-2's, cl100k's) this equals tiktoken's findall.

import { compilePretokenizerPattern } from './pattern.js';

/** Splits text into pre-tokens with one or more regexes applied in sequence. */
export class Pretokenizer {
  /** The patterns, in tiktoken / Hugging Face syntax, as given. */
  readonly patterns: readonly string[];
  private readonly regexes: readonly RegExp[];

  /**
   * @param patterns - regex sources in tiktoken / Hugging Face syntax; an empty list makes each
   *   segment a single piece
   */
  constructor(patterns: readonly string[]) {
    this.patterns = [...patterns];
    this.regexes = patterns.map((p) => compilePretokenizerPattern(p));
  }

  /** Calls `emit` with each piece of `segment`, in order; the pieces concatenate to `segment`. */
  split(segment: string, emit: (piece: string) => void): void {
    if (segment.length === 0) return;
    this.splitLevel(segment, 0, emit);
  }

  /** Returns the pieces of `segment` as an array. */
  pieces(segment: string): string[] {
    const out: string[] = [];
    this.split(segment, (p) => out.push(p));
    return out;
  }

  private splitLevel(text: string, level: number, emit: (piece: string) => void): void {
    const re = this.regexes[level];
    if (re === undefined) {
      emit(text);
      return;
    }
    const deeper =
      level + 1 < this.regexes.length
        ? (piece: string) => this.splitLevel(piece, level + 1, emit)
        : emit;
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const match = m[0];
      if (match.length === 0) {
        // Step past the empty match by a whole code point, as matchAll does with the u flag.
        const c = text.charCodeAt(re.lastIndex);
        re.lastIndex += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
        continue;
      }
      if (m.index > last) deeper(text.slice(last, m.index));
      deeper(match);
      last = m.index + match.length;
    }
    if (last < text.length) deeper(text.slice(last));
  }
}
