import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { decodeWtf8, encodeWtf8 } from './wtf8.js';

/** Any sequence of UTF-16 code units, lone surrogates included. */
const anyUtf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});
const wellFormed = fc.string({ unit: 'grapheme' });

describe('WTF-8 byte handling', () => {
  it('encodes well-formed strings exactly as TextEncoder does', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(wellFormed, (s) => {
        expect(encodeWtf8(s)).toEqual(enc.encode(s));
      }),
    );
  });

  it('encodes lone surrogates as generalised UTF-8, or as U+FFFD in replace mode', () => {
    expect([...encodeWtf8('\ud800')]).toEqual([0xed, 0xa0, 0x80]);
    expect([...encodeWtf8('a\udfffb')]).toEqual([0x61, 0xed, 0xbf, 0xbf, 0x62]);
    expect([...encodeWtf8('\ud800', 'replace')]).toEqual([0xef, 0xbf, 0xbd]);
    expect(encodeWtf8('x\udc00\ud800y', 'replace')).toEqual(
      new TextEncoder().encode('x\udc00\ud800y'),
    );
  });

  it('round-trips every string, lone surrogates included', () => {
    fc.assert(
      fc.property(anyUtf16, (s) => {
        expect(decodeWtf8(encodeWtf8(s))).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes arbitrary bytes like TextDecoder except for surrogate sequences', () => {
    const dec = new TextDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(decodeWtf8(bytes, 'replace')).toBe(dec.decode(bytes));
        const hasSurrogate = bytes.some(
          (b, i) =>
            b === 0xed &&
            (bytes[i + 1] ?? 0) >= 0xa0 &&
            (bytes[i + 2] ?? 0) >= 0x80 &&
            (bytes[i + 2] ?? 0) <= 0xbf,
        );
        if (!hasSurrogate) expect(decodeWtf8(bytes)).toBe(dec.decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});
