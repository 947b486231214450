// GPT-2's reversible byte <-> printable-character table, used by Hugging Face byte-level BPE
// files to store arbitrary byte strings as JSON-safe text.

/**
 * GPT-2's `bytes_to_unicode` table: `BYTE_TO_UNICODE[b]` is the character that stands for byte
 * `b` in byte-level vocabularies (printable Latin-1 bytes map to themselves, the other 68 bytes
 * map to U+0100 onwards in byte order).
 */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

const UNICODE_TO_BYTE: ReadonlyMap<number, number> = new Map(
  BYTE_TO_UNICODE.map((ch, byte) => [ch.charCodeAt(0), byte]),
);

function buildByteToUnicode(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table.push(String.fromCharCode(printable(b) ? b : 256 + next++));
  }
  return table;
}

/** Writes `bytes` in GPT-2's byte-level alphabet (one character per byte). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_UNICODE[bytes[i]!]!;
  return out;
}

/**
 * Reads a string written in GPT-2's byte-level alphabet back into bytes; returns `undefined`
 * when a character is outside the alphabet (the caller names the offending input).
 */
export function byteLevelToBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const byte = UNICODE_TO_BYTE.get(text.charCodeAt(i));
    if (byte === undefined) return undefined;
    out[i] = byte;
  }
  return out;
}
