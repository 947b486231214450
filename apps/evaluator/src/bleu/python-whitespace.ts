/**
 * Python's notion of whitespace (`str.split()` with no argument, `str.rstrip()`), which
 * sacreBLEU relies on and which differs from JavaScript's `\s` (Python counts U+001C–U+001F
 * and U+0085 as whitespace; JavaScript counts U+FEFF and Python does not).
 */
const PY_WHITESPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c\\x1d\\x1e\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPLIT = new RegExp(`[${PY_WHITESPACE}]+`, 'u');
const TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`, 'u');

/** Python's `s.split()`: runs of whitespace separate words; no empty words. */
export function pySplit(s: string): string[] {
  return s.split(SPLIT).filter((w) => w.length > 0);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, '');
}
