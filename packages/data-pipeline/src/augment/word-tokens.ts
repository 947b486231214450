/** A text split into white-space separated tokens, each with the white space before it. */
export interface SpacedTokens {
  /** White space before each token (the first may be empty). */
  spaces: string[];
  /** The tokens, punctuation attached (`"Hello,`). */
  tokens: string[];
  /** White space after the last token. */
  trailing: string;
}

/**
 * Splits a text into white-space separated tokens, keeping the white space so that
 * {@link joinSpacedTokens} restores line and paragraph breaks.
 *
 * @param text - any text.
 * @returns the tokens and the white space around them.
 */
export function splitSpacedTokens(text: string): SpacedTokens {
  const spaces: string[] = [];
  const tokens: string[] = [];
  const re = /(\s*)(\S+)/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    spaces.push(m[1]!);
    tokens.push(m[2]!);
    last = re.lastIndex;
  }
  return { spaces, tokens, trailing: text.slice(last) };
}

/**
 * Joins tokens back into text. Where the token count changed, white space is taken from the
 * original positions and missing positions get a single space.
 *
 * @param parts - tokens and white space, as from {@link splitSpacedTokens}.
 * @returns the text.
 */
export function joinSpacedTokens({ spaces, tokens, trailing }: SpacedTokens): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const space = spaces[i] ?? ' ';
    out += i > 0 && space.length === 0 ? ' ' : space;
    out += tokens[i];
  }
  return out + trailing;
}

const CORE = /^([^\p{L}]*)([\p{L}][\p{L}'-]*[\p{L}]|[\p{L}])([^\p{L}]*)$/u;

/**
 * Splits a token into leading punctuation, the word, and trailing punctuation.
 *
 * @param token - a white-space free token (`"Hello,`).
 * @returns the three parts, or `undefined` when the token has no single word in it.
 */
export function wordCore(token: string): [before: string, word: string, after: string] | undefined {
  const m = CORE.exec(token);
  return m ? [m[1]!, m[2]!, m[3]!] : undefined;
}

/**
 * Copies the capitalisation of the first letter of `model` onto `word`.
 *
 * @param word - the replacement.
 * @param model - the word it replaces.
 * @returns `word`, capitalised when `model` starts with a capital.
 */
export function matchCase(word: string, model: string): string {
  const first = model[0] ?? '';
  if (first !== first.toLowerCase()) return word[0]!.toUpperCase() + word.slice(1);
  return word;
}

/** Stop words that EDA never replaces (the NLTK English list EDA ships with, abridged). */
export const EDA_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his ' +
    'himself she her hers herself it its itself they them their theirs themselves what which ' +
    'who whom this that these those am is are was were be been being have has had having do ' +
    'does did doing a an the and but if or because as until while of at by for with about ' +
    'against between into through during before after above below to from up down in out on ' +
    'off over under again further then once here there when where why how all any both each ' +
    'few more most other some such no nor not only own same so than too very s t can will just ' +
    "don should now ' - ."
  ).split(' '),
);
