/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length,
 * a JSON header mapping names to {dtype, shape, data_offsets}, then the raw
 * little-endian data. Parsing validates everything before trusting it: header
 * bounds, dtypes, shapes, and that offsets tile the data exactly.
 */

/** Element types safetensors defines. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_SIZE: Record<SafetensorsDType, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** One tensor's entry: dtype, shape and its raw little-endian bytes. */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Uint8Array;
}

/** The contents of a safetensors file. */
export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Header size limit, as in Hugging Face's implementation (100 MB): rejects absurd or hostile headers. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Raised for malformed safetensors data. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && value in SAFETENSORS_DTYPE_SIZE;
}

/** Parses and validates a safetensors buffer. Tensor data are views into `bytes` (no copy). */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.byteLength < 8)
    throw new SafetensorsError(
      `file has ${bytes.byteLength} bytes; expected at least 8 for the header length`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength) {
    throw new SafetensorsError(
      `header length ${n} runs past the end of the file (${bytes.byteLength} bytes): truncated or corrupt`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('header must be a JSON object');
  }
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        entry === null ||
        typeof entry !== 'object' ||
        Object.values(entry).some((v) => typeof v !== 'string')
      ) {
        throw new SafetensorsError('__metadata__ must map strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(e?.dtype))
      throw new SafetensorsError(
        `tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; expected one of ${Object.keys(SAFETENSORS_DTYPE_SIZE).join(', ')}`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        `tensor '${name}' has shape ${JSON.stringify(e.shape)}; expected a list of non-negative integers`,
      );
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      throw new SafetensorsError(
        `tensor '${name}' has data_offsets ${JSON.stringify(offs)}; expected [begin, end] with 0 <= begin <= end`,
      );
    }
    const [begin, end] = offs as [number, number];
    const want = (e.shape as number[]).reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_SIZE[e.dtype];
    if (end - begin !== want) {
      throw new SafetensorsError(
        `tensor '${name}' spans ${end - begin} bytes; ${e.dtype} of shape [${(e.shape as number[]).join(',')}] needs ${want}`,
      );
    }
    if (end > data.byteLength) {
      throw new SafetensorsError(
        `tensor '${name}' ends at byte ${end} of a ${data.byteLength}-byte data section: truncated or corrupt`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      dtype: e.dtype,
      shape: e.shape as number[],
      data: data.subarray(begin, end),
    });
  }
  // Offsets must tile the data section exactly: no overlaps, no holes, nothing trailing.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor)
      throw new SafetensorsError(
        `tensor '${name}' starts at byte ${begin}; expected ${cursor} (overlapping or non-contiguous offsets)`,
      );
    cursor = end;
  }
  if (cursor !== data.byteLength)
    throw new SafetensorsError(
      `data section has ${data.byteLength} bytes but tensors cover ${cursor}`,
    );
  return { tensors, metadata };
}

/** Serialises tensors (in insertion order) and string metadata to safetensors bytes. */
export function serializeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new SafetensorsError("'__metadata__' is reserved and cannot name a tensor");
    const want = t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== want)
      throw new SafetensorsError(
        `tensor '${name}' has ${t.data.byteLength} bytes; ${t.dtype} [${t.shape.join(',')}] needs ${want}`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    offset += want;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned (as Hugging Face writes it).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const [, t] of entries) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}
