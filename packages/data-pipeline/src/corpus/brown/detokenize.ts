import type { BrownParagraph } from './parse.js';

// Tokens printed against the previous word, and tokens the next word is printed against.
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '%', "''"]);
const NO_SPACE_AFTER = new Set(['(', '[', '$', '``']);

/**
 * Joins the words of one paragraph into ordinary text: no space before punctuation or a
 * closing quote, none after an opening bracket or quote, ``` `` ``` and `''` printed as `"`.
 * A lone `'` is the corpus's single quote for both opening and closing, so quotes alternate
 * within the paragraph.
 *
 * @param paragraph - sentences of tagged words, as from {@link parseBrownTagged}.
 * @returns the paragraph's text, sentences separated by single spaces.
 */
export function detokenizeBrownParagraph(paragraph: BrownParagraph): string {
  let out = '';
  let glueNext = true; // no space before the paragraph's first word
  let singleQuoteOpen = false;
  for (const sentence of paragraph) {
    for (const { word } of sentence) {
      let text = word;
      let glueLeft = NO_SPACE_BEFORE.has(word);
      let glueRight = NO_SPACE_AFTER.has(word);
      if (word === '``' || word === "''") {
        text = '"';
      } else if (word === "'") {
        glueLeft = singleQuoteOpen;
        glueRight = !singleQuoteOpen;
        singleQuoteOpen = !singleQuoteOpen;
      }
      if (!glueNext && !glueLeft) out += ' ';
      out += text;
      glueNext = glueRight;
    }
  }
  return out;
}

/**
 * Turns parsed paragraphs into a plain-text document, paragraphs separated by a blank line.
 *
 * @param paragraphs - as from {@link parseBrownTagged}.
 * @returns the document's text.
 */
export function detokenizeBrown(paragraphs: readonly BrownParagraph[]): string {
  return paragraphs.map(detokenizeBrownParagraph).join('\n\n');
}
