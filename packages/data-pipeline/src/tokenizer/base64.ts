// Base64 <-> bytes with the web-standard atob/btoa, so the tokenizer runs in browsers as well.

import { bytesKey } from './merge-table.js';

/** Decodes standard base64 to bytes. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Encodes bytes as standard base64 with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  return btoa(bytesKey(bytes));
}
