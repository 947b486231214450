// Strings <-> bytes for byte-level BPE. Well-formed UTF-16 becomes ordinary UTF-8. A lone
// surrogate (which UTF-8 cannot encode) becomes, in 'wtf8' mode, the 3-byte generalised UTF-8
// form of its code unit (ED A0..BF 80..BF), as in WTF-8; decoding maps those bytes back, so
// decode(encode(s)) === s for every JS string. In 'replace' mode it becomes U+FFFD, which is
// what TextEncoder, tiktoken and Hugging Face tokenizers do.

/** How lone surrogates (unpaired UTF-16 code units) are turned into bytes and back. */
export type LoneSurrogateMode = 'wtf8' | 'replace';

const utf8Decoder = new TextDecoder('utf-8');

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Encodes `text[start, end)` into `out` starting at offset 0 and returns the byte count. `out`
 * must hold at least `3 * (end - start)` bytes (the worst case).
 */
export function encodeWtf8Into(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  mode: LoneSurrogateMode,
): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c <= 0xdbff && i + 1 < end && isLow(text.charCodeAt(i + 1))) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      if (mode === 'replace') c = 0xfffd;
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** Encodes a whole string to UTF-8, writing lone surrogates as `mode` says. */
export function encodeWtf8(text: string, mode: LoneSurrogateMode = 'wtf8'): Uint8Array {
  const buf = new Uint8Array(text.length * 3);
  return buf.slice(0, encodeWtf8Into(text, 0, text.length, buf, mode));
}

/**
 * Decodes bytes to a string. Invalid UTF-8 becomes U+FFFD exactly as `TextDecoder` does; in
 * 'wtf8' mode a well-formed 3-byte surrogate sequence (ED A0..BF 80..BF) becomes that lone
 * surrogate code unit instead of three U+FFFD.
 */
export function decodeWtf8(bytes: Uint8Array, mode: LoneSurrogateMode = 'wtf8'): string {
  if (mode === 'replace') return utf8Decoder.decode(bytes);
  let out = '';
  let segmentStart = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (
      bytes[i] === 0xed &&
      bytes[i + 1]! >= 0xa0 &&
      bytes[i + 1]! <= 0xbf &&
      bytes[i + 2]! >= 0x80 &&
      bytes[i + 2]! <= 0xbf
    ) {
      if (i > segmentStart) out += utf8Decoder.decode(bytes.subarray(segmentStart, i));
      out += String.fromCharCode(0xd000 | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f));
      i += 2;
      segmentStart = i + 1;
    }
  }
  if (segmentStart === 0) return utf8Decoder.decode(bytes);
  if (segmentStart < bytes.length) out += utf8Decoder.decode(bytes.subarray(segmentStart));
  return out;
}
