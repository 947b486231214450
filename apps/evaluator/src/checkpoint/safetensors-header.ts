/** Reading only the `__metadata__` of a safetensors file (the 8-byte length and JSON header). */
import { open } from 'node:fs/promises';

/** Largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * The string entries of a safetensors file's `__metadata__` (empty when it has none), read
 * without loading the tensors.
 *
 * @param path - the safetensors file.
 * @throws Error naming the file when its header is truncated or not JSON.
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const handle = await open(path, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    const { bytesRead } = await handle.read(lengthBytes, 0, 8, 0);
    if (bytesRead < 8)
      throw new Error(`${path}: file has ${bytesRead} bytes; expected a safetensors file`);
    const length = Number(lengthBytes.readBigUInt64LE(0));
    if (length > MAX_HEADER_BYTES)
      throw new Error(
        `${path}: safetensors header length is ${length}; expected at most ${MAX_HEADER_BYTES}`,
      );
    const header = Buffer.alloc(length);
    const read = await handle.read(header, 0, length, 8);
    if (read.bytesRead < length)
      throw new Error(
        `${path}: safetensors header is truncated (${read.bytesRead} of ${length} bytes)`,
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(header.toString('utf8'));
    } catch (error) {
      throw new Error(`${path}: safetensors header is not JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
    const meta = (parsed as { __metadata__?: unknown } | null)?.__metadata__;
    if (typeof meta !== 'object' || meta === null) return {};
    return Object.fromEntries(
      Object.entries(meta).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } finally {
    await handle.close();
  }
}
