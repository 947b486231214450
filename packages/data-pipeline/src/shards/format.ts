// Layout of a token shard, version 1. All integers little-endian.
//
//   offset  size  field
//        0     8  magic, ASCII "FTHMTOKS"
//        8     2  format version (1)
//       10     2  header size in bytes (64)
//       12     1  token dtype: 1 = uint16, 2 = uint32
//       13     1  flags: bit 0 set when an end-of-document token follows every document
//       14     2  reserved, zero
//       16     8  token count
//       24     8  document count
//       32     8  byte offset of the document index
//       40     4  vocabulary size (0 when unknown)
//       44     4  end-of-document token id (meaningful when flag bit 0 is set)
//       48    16  reserved, zero
//       64        tokens, token count x 2 or 4 bytes
//                 zero padding to a multiple of 8 bytes
//   index         document index: (document count + 1) x uint64 token offsets; document i
//                 holds tokens [offset[i], offset[i + 1])

/** Token element type of a shard. */
export type TokenDtype = 'u16' | 'u32';

/** The fixed-size header at the start of every shard. */
export interface ShardHeader {
  /** Format version. */
  version: number;
  /** Token element type. */
  dtype: TokenDtype;
  /** Number of tokens. */
  tokenCount: number;
  /** Number of documents. */
  documentCount: number;
  /** Byte offset of the document index. */
  indexOffset: number;
  /** Vocabulary size of the tokenizer that wrote the shard (0 when unknown). */
  vocabSize: number;
  /** End-of-document token appended after every document, if any. */
  eosToken: number | undefined;
}

/** Magic bytes at the start of a shard. */
export const SHARD_MAGIC = 'FTHMTOKS';
/** Current format version. */
export const SHARD_VERSION = 1;
/** Header size in bytes; tokens start here. */
export const SHARD_HEADER_BYTES = 64;

const DTYPE_CODES: Record<TokenDtype, number> = { u16: 1, u32: 2 };
const FLAG_EOS = 1;

/**
 * Bytes per token of a dtype.
 *
 * @param dtype - `u16` or `u32`.
 * @returns 2 or 4.
 */
export function tokenBytes(dtype: TokenDtype): 2 | 4 {
  return dtype === 'u16' ? 2 : 4;
}

/**
 * The smallest dtype that holds every id of a vocabulary.
 *
 * @param vocabSize - number of token ids.
 * @returns `u16` up to 65 536 ids, otherwise `u32`.
 */
export function dtypeForVocab(vocabSize: number): TokenDtype {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 32) {
    throw new RangeError(
      `dtypeForVocab: vocabSize is ${vocabSize}; expected an integer in [1, 2^32]`,
    );
  }
  return vocabSize <= 65536 ? 'u16' : 'u32';
}

/**
 * Byte offset of the document index for a given token count (tokens, then padding to 8).
 *
 * @param dtype - token type.
 * @param tokenCount - number of tokens.
 * @returns the offset.
 */
export function indexOffsetFor(dtype: TokenDtype, tokenCount: number): number {
  const end = SHARD_HEADER_BYTES + tokenCount * tokenBytes(dtype);
  return Math.ceil(end / 8) * 8;
}

/**
 * Serialises a header.
 *
 * @param header - the header fields.
 * @returns 64 bytes.
 */
export function encodeShardHeader(header: ShardHeader): Uint8Array {
  const bytes = new Uint8Array(SHARD_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < SHARD_MAGIC.length; i++) bytes[i] = SHARD_MAGIC.charCodeAt(i);
  view.setUint16(8, header.version, true);
  view.setUint16(10, SHARD_HEADER_BYTES, true);
  view.setUint8(12, DTYPE_CODES[header.dtype]);
  view.setUint8(13, header.eosToken === undefined ? 0 : FLAG_EOS);
  view.setBigUint64(16, BigInt(header.tokenCount), true);
  view.setBigUint64(24, BigInt(header.documentCount), true);
  view.setBigUint64(32, BigInt(header.indexOffset), true);
  view.setUint32(40, header.vocabSize, true);
  view.setUint32(44, header.eosToken ?? 0, true);
  return bytes;
}

/**
 * Parses and checks a header.
 *
 * @param bytes - at least the first 64 bytes of a shard.
 * @param where - file name for error messages.
 * @returns the header.
 */
export function decodeShardHeader(bytes: Uint8Array, where: string): ShardHeader {
  if (bytes.length < SHARD_HEADER_BYTES) {
    throw new Error(
      `${where}: file has ${bytes.length} bytes; expected a ${SHARD_HEADER_BYTES}-byte shard header`,
    );
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== SHARD_MAGIC) {
    throw new Error(
      `${where}: magic is ${JSON.stringify(magic)}; expected "${SHARD_MAGIC}" (not a Fathom token shard)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  const version = view.getUint16(8, true);
  if (version !== SHARD_VERSION) {
    throw new Error(`${where}: format version is ${version}; expected ${SHARD_VERSION}`);
  }
  const headerSize = view.getUint16(10, true);
  if (headerSize !== SHARD_HEADER_BYTES) {
    throw new Error(`${where}: header size is ${headerSize}; expected ${SHARD_HEADER_BYTES}`);
  }
  const code = view.getUint8(12);
  const dtype = (Object.keys(DTYPE_CODES) as TokenDtype[]).find((d) => DTYPE_CODES[d] === code);
  if (!dtype) throw new Error(`${where}: dtype code is ${code}; expected 1 (u16) or 2 (u32)`);
  const flags = view.getUint8(13);
  const big = (offset: number, field: string): number => {
    const v = view.getBigUint64(offset, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`${where}: ${field} is ${v}; expected at most 2^53 - 1`);
    }
    return Number(v);
  };
  return {
    version,
    dtype,
    tokenCount: big(16, 'token count'),
    documentCount: big(24, 'document count'),
    indexOffset: big(32, 'index offset'),
    vocabSize: view.getUint32(40, true),
    eosToken: flags & FLAG_EOS ? view.getUint32(44, true) : undefined,
  };
}
