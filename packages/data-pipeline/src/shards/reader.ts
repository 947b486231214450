import { close, fstat, open, read } from 'node:fs';
import { endianness } from 'node:os';
import { decodeShardHeader, indexOffsetFor, SHARD_HEADER_BYTES, tokenBytes } from './format.js';
import type { ShardHeader, TokenDtype } from './format.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

// The callback API of node:fs costs about half as much per call as FileHandle.read, and a
// loader makes one call per window.
function readAt(
  fd: number,
  target: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, target, offset, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) =>
    close(fd, (error) => (error ? reject(error) : resolve())),
  );
}

function fileSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size))),
  );
}

/** Token array type matching a shard dtype. */
export type TokenArray = Uint16Array | Uint32Array;

/**
 * Random access to one token shard through a file descriptor: each read is one positioned read
 * of just the bytes asked for, so shards of any size cost no memory beyond the reads.
 */
export class TokenShardReader {
  private constructor(
    /** Path of the shard. */
    readonly path: string,
    /** The shard's header. */
    readonly header: ShardHeader,
    private readonly fd: number,
  ) {}

  /**
   * Opens a shard and checks its header against the file size.
   *
   * @param path - the shard file.
   * @returns a reader; close it when done.
   */
  static async open(path: string): Promise<TokenShardReader> {
    const fd = await openFile(path);
    try {
      const head = new Uint8Array(SHARD_HEADER_BYTES);
      const bytesRead = await readAt(fd, head, 0, SHARD_HEADER_BYTES, 0);
      const header = decodeShardHeader(
        head.subarray(0, bytesRead),
        `TokenShardReader.open(${path})`,
      );
      const expectedIndex = indexOffsetFor(header.dtype, header.tokenCount);
      if (header.indexOffset !== expectedIndex) {
        throw new Error(
          `TokenShardReader.open(${path}): index offset is ${header.indexOffset}; expected ${expectedIndex} for ${header.tokenCount} ${header.dtype} tokens`,
        );
      }
      const size = await fileSize(fd);
      const expectedSize = header.indexOffset + 8 * (header.documentCount + 1);
      if (size !== expectedSize) {
        throw new Error(
          `TokenShardReader.open(${path}): file has ${size} bytes; expected ${expectedSize} from its header (truncated or not closed)`,
        );
      }
      return new TokenShardReader(path, header, fd);
    } catch (error) {
      await closeFile(fd);
      throw error;
    }
  }

  /** Token element type. */
  get dtype(): TokenDtype {
    return this.header.dtype;
  }

  /** Number of tokens. */
  get tokenCount(): number {
    return this.header.tokenCount;
  }

  /** Number of documents. */
  get documentCount(): number {
    return this.header.documentCount;
  }

  /**
   * Reads a range of tokens.
   *
   * @param start - index of the first token.
   * @param count - number of tokens; `start + count` must not pass the end of the shard.
   * @returns a fresh array of the shard's dtype.
   */
  async readTokens(start: number, count: number): Promise<TokenArray> {
    const bytes = tokenBytes(this.dtype);
    const out = new Uint8Array(count * bytes);
    await this.readTokensInto(out, 0, start, count);
    return this.view(out);
  }

  /**
   * Reads a range of tokens into part of a byte buffer, as raw little-endian token bytes.
   * Loaders use it to fill one buffer per batch.
   *
   * @param target - destination bytes.
   * @param targetOffset - byte offset in `target`.
   * @param start - index of the first token.
   * @param count - number of tokens.
   */
  async readTokensInto(
    target: Uint8Array,
    targetOffset: number,
    start: number,
    count: number,
  ): Promise<void> {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > this.tokenCount
    ) {
      throw new RangeError(
        `TokenShardReader.readTokens(${this.path}): range [${start}, ${start + count}) is outside the shard's ${this.tokenCount} tokens`,
      );
    }
    const length = count * tokenBytes(this.dtype);
    if (targetOffset + length > target.length) {
      throw new RangeError(
        `TokenShardReader.readTokensInto: target has ${target.length} bytes; expected at least ${targetOffset + length}`,
      );
    }
    let done = 0;
    const position = SHARD_HEADER_BYTES + start * tokenBytes(this.dtype);
    while (done < length) {
      const bytesRead = await readAt(
        this.fd,
        target,
        targetOffset + done,
        length - done,
        position + done,
      );
      if (bytesRead === 0)
        throw new Error(`TokenShardReader: ${this.path} ended early at byte ${position + done}`);
      done += bytesRead;
    }
  }

  /**
   * The token range of one document.
   *
   * @param index - document index in [0, documentCount).
   * @returns `[start, end)` token offsets.
   */
  async documentRange(index: number): Promise<[start: number, end: number]> {
    if (!Number.isInteger(index) || index < 0 || index >= this.documentCount) {
      throw new RangeError(
        `TokenShardReader.documentRange(${this.path}): index is ${index}; expected an integer in [0, ${this.documentCount})`,
      );
    }
    const buf = new Uint8Array(16);
    await this.readExactly(buf, this.header.indexOffset + 8 * index);
    const view = new DataView(buf.buffer);
    return [Number(view.getBigUint64(0, true)), Number(view.getBigUint64(8, true))];
  }

  /**
   * Reads one document's tokens (with its end-of-document token, if the shard has them).
   *
   * @param index - document index in [0, documentCount).
   * @returns the tokens.
   */
  async readDocument(index: number): Promise<TokenArray> {
    const [start, end] = await this.documentRange(index);
    return this.readTokens(start, end - start);
  }

  /**
   * Reads the whole document index.
   *
   * @returns `documentCount + 1` token offsets; document i is `[offsets[i], offsets[i+1])`.
   */
  async documentOffsets(): Promise<Float64Array> {
    const n = this.documentCount + 1;
    const buf = new Uint8Array(8 * n);
    await this.readExactly(buf, this.header.indexOffset);
    const view = new DataView(buf.buffer);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(view.getBigUint64(8 * i, true));
    return out;
  }

  /**
   * Views raw little-endian token bytes as a token array of this shard's dtype.
   *
   * @param bytes - token bytes; its byte offset must be a multiple of the token size.
   * @returns a view (a converted copy on big-endian hosts).
   */
  view(bytes: Uint8Array): TokenArray {
    const n = bytes.length / tokenBytes(this.dtype);
    if (LITTLE_ENDIAN_HOST) {
      return this.dtype === 'u16'
        ? new Uint16Array(bytes.buffer, bytes.byteOffset, n)
        : new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const out = this.dtype === 'u16' ? new Uint16Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++)
      out[i] = this.dtype === 'u16' ? dv.getUint16(2 * i, true) : dv.getUint32(4 * i, true);
    return out;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await closeFile(this.fd);
  }

  private async readExactly(target: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const bytesRead = await readAt(this.fd, target, done, target.length - done, position + done);
      if (bytesRead === 0)
        throw new Error(`TokenShardReader: ${this.path} ended early at byte ${position + done}`);
      done += bytesRead;
    }
  }
}
