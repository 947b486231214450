import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  CL100K_PATTERN,
  GPT2_PATTERN,
  LLAMA3_PATTERN,
  compilePretokenizerPattern,
} from './pattern.js';
import { Pretokenizer } from './pretokenize.js';

const splitAll = (pattern: string, text: string) => new Pretokenizer([pattern]).pieces(text);

// Strings over an alphabet chosen to hit every branch of the published patterns.
const tricky = fc.string({
  unit: fc.constantFrom(..."aZé中😀1٣ \t\n\r\u00a0\u3000'sStTlLdDmMvVeErR.,!-_#".split(/(?:)/u)),
  maxLength: 40,
});

describe('compilePretokenizerPattern', () => {
  it('translates possessive quantifiers to atomic matches', () => {
    expect(compilePretokenizerPattern('a++a').test('aaaa')).toBe(false);
    expect(compilePretokenizerPattern('a+a').test('aaaa')).toBe(true);
    expect(compilePretokenizerPattern('(?>ab|a)c').test('abc')).toBe(true);
    expect(compilePretokenizerPattern('(?>a|ab)c').test('abc')).toBe(false);
    expect('x12345'.match(compilePretokenizerPattern('\\p{N}{1,3}+'))).toEqual(['123', '45']);
  });

  it('makes (?i:...) case-insensitive with Unicode simple case folding', () => {
    const re = compilePretokenizerPattern("'(?i:[sdmt]|ll|ve|re)");
    for (const s of ["'s", "'S", "'ſ", "'LL", "'lL", "'Ve", "'rE", "'t", "'D", "'M"]) {
      expect(s.match(re)).toEqual([s]);
    }
    expect("'x".match(re)).toBeNull();
    expect('\u212a'.match(compilePretokenizerPattern('(?i:k)'))).toEqual(['\u212a']);
    expect('É'.match(compilePretokenizerPattern('(?i:é)'))).toEqual(['É']);
    expect('Q'.match(compilePretokenizerPattern('(?i:[a-z])'))).toEqual(['Q']);
  });

  it('uses Unicode White_Space for \\s, as Rust regex and Oniguruma do', () => {
    const s = compilePretokenizerPattern('^\\s$');
    expect(s.test('\u0085')).toBe(true);
    expect(compilePretokenizerPattern('^\\s$').test('\ufeff')).toBe(false);
    expect(compilePretokenizerPattern('^[^\\s]$').test('\ufeff')).toBe(true);
    expect(compilePretokenizerPattern('^\\d+$').test('٣4')).toBe(true);
  });

  it('rejects what it cannot translate, naming the construct', () => {
    expect(() => compilePretokenizerPattern('(a)\\1')).toThrow(/backreference at offset 3/);
    expect(() => compilePretokenizerPattern('\\bword')).toThrow(/unsupported escape '\\b'/);
    expect(() => compilePretokenizerPattern('(?x)a')).toThrow(/unsupported group syntax/);
    expect(() => compilePretokenizerPattern('(ab')).toThrow(/missing '\)'/);
    expect(() => compilePretokenizerPattern('')).toThrow(/non-empty string/);
  });

  it('splits GPT-2 text like the plain JavaScript regex on text without U+0085/U+FEFF', () => {
    const js = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
    fc.assert(
      fc.property(tricky, (text) => {
        expect(splitAll(GPT2_PATTERN, text)).toEqual(text.match(js) ?? []);
      }),
      { numRuns: 500 },
    );
  });

  it("gives the same pieces for tiktoken's possessive r50k pattern as for GPT-2's original", () => {
    const possessive =
      "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s";
    fc.assert(
      fc.property(tricky, (text) => {
        expect(splitAll(possessive, text)).toEqual(splitAll(GPT2_PATTERN, text));
      }),
      { numRuns: 500 },
    );
  });

  it('cl100k: the current pattern equals the original except for trailing newline+space runs', () => {
    // The original ends "\s*[\r\n]+|\s+(?!\S)|\s+"; the current one adds "\s++$", so trailing
    // whitespace containing a line break followed by spaces stays one piece.
    expect(splitAll(CL100K_PATTERN, 'x\n  ')).toEqual(['x', '\n  ']);
    expect(splitAll(LLAMA3_PATTERN, 'x\n  ')).toEqual(['x', '\n', '  ']);
    fc.assert(
      fc.property(tricky, (text) => {
        const body = text + '.';
        expect(splitAll(CL100K_PATTERN, body)).toEqual(splitAll(LLAMA3_PATTERN, body));
      }),
      { numRuns: 500 },
    );
  });

  it("splits cl100k text like js-tiktoken's expanded pattern", () => {
    const js =
      /(?:'s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
    expect(splitAll(LLAMA3_PATTERN, "I'LL 's x\n\n  y 12345")).toEqual(
      "I'LL 's x\n\n  y 12345".match(js),
    );
    fc.assert(
      fc.property(tricky, (text) => {
        expect(splitAll(LLAMA3_PATTERN, text)).toEqual(text.match(js) ?? []);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Pretokenizer', () => {
  it('keeps unmatched text as pieces (Hugging Face "Isolated") and chains patterns', () => {
    expect(new Pretokenizer(['\\d+']).pieces('ab12cd3')).toEqual(['ab', '12', 'cd', '3']);
    expect(new Pretokenizer(['[a-z]+', '.']).pieces('ab12')).toEqual(['a', 'b', '1', '2']);
    expect(new Pretokenizer([]).pieces('whole text')).toEqual(['whole text']);
  });
});
