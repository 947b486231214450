/**
 * The `13a` tokenizer of sacreBLEU (`tokenizer_13a.py` + `tokenizer_re.py`), equivalent to
 * mteval-v13a.pl as used by WMT. Each rule is sacreBLEU's regular expression, applied in order.
 */
import { pySplit } from './python-whitespace.js';

const RULES: [RegExp, string][] = [
  // Punctuation and symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([{-~[-` -&(-+:-@/])/gu, ' $1 '],
  // Period and comma unless preceded by a digit.
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // Period and comma unless followed by a digit.
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // Dash when preceded by a digit.
  [/([0-9])(-)/gu, '$1 $2 '],
];

/**
 * Tokenizes one segment exactly as sacreBLEU's `Tokenizer13a`.
 *
 * @param line - a segment.
 * @returns the tokens joined by single spaces, no leading or trailing space.
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) {
    s = s
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  }
  s = ` ${s} `;
  for (const [re, replacement] of RULES) s = s.replace(re, replacement);
  return pySplit(s).join(' ');
}
