import { describe, expect, it } from 'vitest';

import { BYTE_TO_UNICODE, byteLevelToBytes, bytesToByteLevel } from './byte-level.js';

describe("GPT-2's bytes_to_unicode", () => {
  it('matches published values', () => {
    // From GPT-2's encoder.json: space is "Ġ", newline "Ċ", tab "ĉ", byte 0 "Ā", 0x7f "ġ", 0xad "Ń".
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x09]).toBe('ĉ');
    expect(BYTE_TO_UNICODE[0x00]).toBe('Ā');
    expect(BYTE_TO_UNICODE[0x7f]).toBe('ġ');
    expect(BYTE_TO_UNICODE[0xad]).toBe('Ń');
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
    expect(BYTE_TO_UNICODE[0xe9]).toBe('é');
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
  });

  it('round-trips all bytes and rejects characters outside the alphabet', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(byteLevelToBytes(bytesToByteLevel(all))).toEqual(all);
    expect(byteLevelToBytes('ĠhelloĊ')).toEqual(new TextEncoder().encode(' hello\n'));
    expect(byteLevelToBytes('a b')).toBeUndefined();
  });
});
