/**
 * Turning a stream of token byte strings into text: a token may end in the middle of a
 * multi-byte UTF-8 character, so bytes are held until the character is complete.
 */

/** Incremental UTF-8 decoding of token bytes (invalid sequences become U+FFFD). */
export class Utf8StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** Text completed by these bytes (possibly empty while a character is incomplete). */
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** Whatever is left (an incomplete character becomes U+FFFD); the decoder can be reused. */
  flush(): string {
    return this.decoder.decode();
  }
}
