import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  encodeShardHeader,
  indexOffsetFor,
  SHARD_HEADER_BYTES,
  SHARD_VERSION,
  tokenBytes,
} from './format.js';
import type { ShardHeader, TokenDtype } from './format.js';

/** Options of {@link TokenShardWriter.create}. */
export interface TokenShardWriterOptions {
  /** Token element type (`u16` for vocabularies up to 65 536 ids). */
  dtype: TokenDtype;
  /** Vocabulary size; when given, every token must be below it. */
  vocabSize?: number;
  /** Token appended after every document (usually end-of-text), if any. */
  eosToken?: number;
  /** Bytes buffered before each write (default 1 MiB). */
  bufferBytes?: number;
}

/** What a finished shard holds. */
export interface ShardSummary {
  /** Path of the shard. */
  path: string;
  /** Header as written. */
  header: ShardHeader;
  /** File size in bytes. */
  bytes: number;
}

/**
 * Writes one token shard (format in `format.ts` and the package README). Tokens stream to a
 * temporary file through a buffer; {@link TokenShardWriter.close} appends the document index,
 * fills in the header, syncs, and renames the file into place, so a shard path either does
 * not exist or holds a complete shard.
 */
export class TokenShardWriter {
  private readonly bytesPerToken: 2 | 4;
  private readonly maxToken: number;
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private written = SHARD_HEADER_BYTES;
  private tokenCount = 0;
  private readonly docOffsets: number[] = [0];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly file: FileHandle,
    private readonly options: TokenShardWriterOptions,
  ) {
    this.bytesPerToken = tokenBytes(options.dtype);
    this.maxToken = Math.min(options.vocabSize ?? Infinity, 2 ** (8 * this.bytesPerToken)) - 1;
    const size = options.bufferBytes ?? 1 << 20;
    this.buffer = new Uint8Array(Math.max(size - (size % 8), 8));
    this.view = new DataView(this.buffer.buffer);
  }

  /**
   * Starts a shard.
   *
   * @param path - where the shard will be.
   * @param options - dtype, vocabulary size, end-of-document token.
   * @returns the writer.
   */
  static async create(path: string, options: TokenShardWriterOptions): Promise<TokenShardWriter> {
    if (options.dtype !== 'u16' && options.dtype !== 'u32') {
      throw new TypeError(
        `TokenShardWriter.create: options.dtype is ${JSON.stringify(options.dtype)}; expected 'u16' or 'u32'`,
      );
    }
    const limit = 2 ** (8 * tokenBytes(options.dtype));
    const { vocabSize, eosToken } = options;
    if (
      vocabSize !== undefined &&
      !(Number.isInteger(vocabSize) && vocabSize >= 1 && vocabSize <= limit)
    ) {
      throw new RangeError(
        `TokenShardWriter.create: options.vocabSize is ${vocabSize}; expected an integer in [1, ${limit}] for dtype ${options.dtype}`,
      );
    }
    if (
      eosToken !== undefined &&
      !(Number.isInteger(eosToken) && eosToken >= 0 && eosToken < (vocabSize ?? limit))
    ) {
      throw new RangeError(
        `TokenShardWriter.create: options.eosToken is ${eosToken}; expected an integer in [0, ${(vocabSize ?? limit) - 1}]`,
      );
    }
    const tmpPath = `${path}.tmp-${process.pid}-${Date.now()}`;
    const file = await open(tmpPath, 'w');
    await file.write(new Uint8Array(SHARD_HEADER_BYTES), 0, SHARD_HEADER_BYTES, 0);
    return new TokenShardWriter(path, tmpPath, file, options);
  }

  /** Tokens written so far (including end-of-document tokens). */
  get tokens(): number {
    return this.tokenCount;
  }

  /** Documents written so far. */
  get documents(): number {
    return this.docOffsets.length - 1;
  }

  /**
   * Appends one document's tokens (and the end-of-document token, if configured).
   *
   * @param tokens - token ids, integers in [0, vocabSize).
   */
  async appendDocument(tokens: ArrayLike<number>): Promise<void> {
    if (this.closed)
      throw new Error(`TokenShardWriter.appendDocument: ${this.path} is already closed`);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!(Number.isInteger(t) && t >= 0 && t <= this.maxToken)) {
        throw new RangeError(
          `TokenShardWriter.appendDocument: tokens[${i}] of document ${this.documents} is ${t}; expected an integer in [0, ${this.maxToken}]`,
        );
      }
    }
    // Checked first, so a rejected document leaves nothing behind. Awaiting only when the
    // buffer is full keeps the per-token cost a DataView store.
    for (let i = 0; i < tokens.length; i++) if (this.put(tokens[i]!)) await this.flush();
    if (this.options.eosToken !== undefined && this.put(this.options.eosToken)) await this.flush();
    this.docOffsets.push(this.tokenCount);
  }

  /**
   * Finishes the shard: writes the document index and header, syncs and renames.
   *
   * @returns what the shard holds.
   */
  async close(): Promise<ShardSummary> {
    if (this.closed) throw new Error(`TokenShardWriter.close: ${this.path} is already closed`);
    this.closed = true;
    try {
      await this.flush();
      const indexOffset = indexOffsetFor(this.options.dtype, this.tokenCount);
      const index = new Uint8Array(indexOffset - this.written + 8 * this.docOffsets.length);
      const view = new DataView(index.buffer);
      const base = indexOffset - this.written;
      this.docOffsets.forEach((o, i) => view.setBigUint64(base + 8 * i, BigInt(o), true));
      await this.file.write(index, 0, index.length, this.written);
      const header: ShardHeader = {
        version: SHARD_VERSION,
        dtype: this.options.dtype,
        tokenCount: this.tokenCount,
        documentCount: this.documents,
        indexOffset,
        vocabSize: this.options.vocabSize ?? 0,
        eosToken: this.options.eosToken,
      };
      await this.file.write(encodeShardHeader(header), 0, SHARD_HEADER_BYTES, 0);
      await this.file.sync();
      await this.file.close();
      await rename(this.tmpPath, this.path);
      return { path: this.path, header, bytes: this.written + index.length };
    } catch (error) {
      await this.file.close().catch(() => undefined);
      await rm(this.tmpPath, { force: true });
      throw error;
    }
  }

  /** Drops the unfinished shard and its temporary file. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }

  /** Stores one token in the buffer; returns whether the buffer is now full. */
  private put(token: number): boolean {
    if (this.bytesPerToken === 2) this.view.setUint16(this.used, token, true);
    else this.view.setUint32(this.used, token, true);
    this.used += this.bytesPerToken;
    this.tokenCount++;
    return this.used === this.buffer.length;
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.file.write(this.buffer, 0, this.used, this.written);
    this.written += this.used;
    this.used = 0;
  }
}
