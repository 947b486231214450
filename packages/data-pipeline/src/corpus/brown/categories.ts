/** The fifteen genre letters of the Brown corpus (there are no `i`, `o` or `q`). */
export type BrownCategory =
  'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'j' | 'k' | 'l' | 'm' | 'n' | 'p' | 'r';

/**
 * Genre names by category letter, as in the corpus manual, with the short names that NLTK's
 * `cats.txt` uses (`news`, `editorial`, ...).
 */
export const BROWN_CATEGORIES: Readonly<
  Record<BrownCategory, { readonly name: string; readonly title: string }>
> = {
  a: { name: 'news', title: 'Press: reportage' },
  b: { name: 'editorial', title: 'Press: editorial' },
  c: { name: 'reviews', title: 'Press: reviews' },
  d: { name: 'religion', title: 'Religion' },
  e: { name: 'hobbies', title: 'Skill and hobbies' },
  f: { name: 'lore', title: 'Popular lore' },
  g: { name: 'belles_lettres', title: 'Belles-lettres' },
  h: { name: 'government', title: 'Miscellaneous: government and house organs' },
  j: { name: 'learned', title: 'Learned' },
  k: { name: 'fiction', title: 'Fiction: general' },
  l: { name: 'mystery', title: 'Fiction: mystery' },
  m: { name: 'science_fiction', title: 'Fiction: science' },
  n: { name: 'adventure', title: 'Fiction: adventure' },
  p: { name: 'romance', title: 'Fiction: romance' },
  r: { name: 'humor', title: 'Humor' },
};

/**
 * Whether a letter is one of the Brown corpus's genre letters.
 *
 * @param letter - the letter to test.
 * @returns `true` for `a`..`r` except `i`, `o` and `q`.
 */
export function isBrownCategory(letter: string): letter is BrownCategory {
  return Object.hasOwn(BROWN_CATEGORIES, letter);
}
