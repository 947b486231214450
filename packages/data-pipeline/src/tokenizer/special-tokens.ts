// Finding special (added) tokens in text. Matching is leftmost-longest, as Hugging Face's
// added-token extraction does; the text between matches is ordinary text.

/**
 * Which special tokens `encode` recognises in text: `'all'`, `'none'` (every special token
 * string is encoded as ordinary text), or a list of the allowed token strings.
 */
export type SpecialTokenPolicy = 'all' | 'none' | readonly string[];

/** A compiled matcher for a set of special-token strings. */
export class SpecialTokenMatcher {
  private readonly regex: RegExp | undefined;

  constructor(tokens: Iterable<string>) {
    const list = [...new Set(tokens)].filter((t) => t.length > 0);
    list.sort((a, b) => b.length - a.length);
    this.regex = list.length === 0 ? undefined : new RegExp(list.map(escapeRegExp).join('|'), 'gu');
  }

  /**
   * Walks `text`, calling `onText` for each run of ordinary text (never empty) and `onSpecial`
   * for each special token found.
   */
  scan(text: string, onText: (text: string) => void, onSpecial: (token: string) => void): void {
    const re = this.regex;
    if (re === undefined) {
      if (text.length > 0) onText(text);
      return;
    }
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > last) onText(text.slice(last, m.index));
      onSpecial(m[0]);
      last = m.index + m[0].length;
    }
    if (last < text.length) onText(last === 0 ? text : text.slice(last));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
