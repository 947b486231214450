import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Device, fromArray } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  type RawTensor,
  parseSafetensors,
  serializeSafetensors,
} from './safetensors.js';
import { loadSafetensors, saveSafetensors } from './tensor-io.js';

/**
 * A second parser written from the format's description only: u64 LE header size,
 * JSON header, data; used to check that files written here are readable elsewhere.
 */
function independentParse(
  bytes: Uint8Array,
): Record<string, { dtype: string; shape: number[]; bytes: number[] }> {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + bytes[i]!;
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: Record<string, { dtype: string; shape: number[]; bytes: number[] }> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    out[k] = {
      dtype: v.dtype,
      shape: v.shape,
      bytes: Array.from(bytes.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1])),
    };
  }
  return out;
}

let device: Device;
let dir: string;
beforeAll(async () => {
  device = await Device.open({ backend: 'cpu' });
  dir = mkdtempSync(join(tmpdir(), 'fathom-st-'));
});
afterAll(() => device.close());

describe('safetensors', () => {
  it('round-trips raw tensors of every dtype, and a second parser agrees', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'U8', 'BOOL', 'I64', 'F64'),
            shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
            seed: fc.integer({ min: 0, max: 255 }),
          }),
          { maxLength: 5 },
        ),
        (specs) => {
          const tensors = new Map<string, RawTensor>();
          specs.forEach((s, i) => {
            const size = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1, BOOL: 1, I64: 8, F64: 8 }[
              s.dtype
            ]!;
            const n = s.shape.reduce((a, b) => a * b, 1) * size;
            tensors.set(`t${i}.weight`, {
              dtype: s.dtype as RawTensor['dtype'],
              shape: s.shape,
              data: Uint8Array.from({ length: n }, (_, j) => (j * 7 + s.seed) & 255),
            });
          });
          const bytes = serializeSafetensors(tensors, { format: 'pt' });
          const back = parseSafetensors(bytes);
          expect(back.metadata).toEqual({ format: 'pt' });
          const other = independentParse(bytes);
          for (const [name, t] of tensors) {
            expect(back.tensors.get(name)!.shape).toEqual(t.shape);
            expect(Array.from(back.tensors.get(name)!.data)).toEqual(Array.from(t.data));
            expect(other[name]).toEqual({
              dtype: t.dtype,
              shape: t.shape,
              bytes: Array.from(t.data),
            });
          }
          // The data section starts 8-byte aligned, as Hugging Face writes it.
          const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect((8 + headerLength) % 8).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  const good = (): Uint8Array =>
    serializeSafetensors({
      a: { dtype: 'F32', shape: [2], data: new Uint8Array(8) },
      b: { dtype: 'I32', shape: [1], data: new Uint8Array(4) },
    });
  const withHeader = (json: string, data = new Uint8Array(12)): Uint8Array => {
    const h = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const bad: [string, () => Uint8Array, RegExp][] = [
    ['too short', () => new Uint8Array(4), /expected at least 8 for the header length/],
    [
      'truncated data',
      () => good().subarray(0, good().length - 3),
      /ends at byte .* truncated or corrupt/,
    ],
    ['truncated header', () => good().subarray(0, 20), /runs past the end of the file/],
    [
      'oversized header length',
      () => {
        const b = good().slice();
        new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true);
        return b;
      },
      /exceeds the limit/,
    ],
    ['header not JSON', () => withHeader('{"a": nope}'), /not valid UTF-8 JSON/],
    [
      'unknown dtype',
      () => withHeader('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,12]}}'),
      /dtype "F128"/,
    ],
    [
      'bad shape',
      () => withHeader('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,12]}}'),
      /expected a list of non-negative integers/,
    ],
    [
      'size mismatch',
      () => withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}'),
      /spans 12 bytes; F32 of shape \[2\] needs 8/,
    ],
    [
      'overlap',
      () =>
        withHeader(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        ),
      /overlapping or non-contiguous/,
    ],
    [
      'hole at the end',
      () => withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'),
      /data section has 12 bytes but tensors cover 8/,
    ],
  ];
  for (const [what, make, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(make())).toThrow(message);
    });
  }

  it('saves and loads device tensors of every Fathom dtype, bit-exactly', async () => {
    const path = join(dir, 'model.safetensors');
    const tensors = {
      'w.f32': fromArray([1.5, -2.25, 3e-8], [3], { device }),
      'w.f16': fromArray([1.0009765625, -65504, 6e-8], [3], { device, dtype: 'f16' }),
      'w.bf16': fromArray([1.0078125, -3.3e38, 0.1], [3], { device, dtype: 'bf16' }),
      'ids.i32': fromArray([1, -2, 2147483647], [3], { device, dtype: 'i32' }),
      'ids.u32': fromArray([0, 4294967295], [2], { device, dtype: 'u32' }),
      mask: fromArray([1, 0, 1], [3], { device, dtype: 'bool' }),
    };
    await saveSafetensors(path, tensors, { note: 'test' });
    const other = independentParse(new Uint8Array(readFileSync(path)));
    expect(other['w.f16']!.dtype).toBe('F16');
    expect(other.mask!.bytes).toEqual([1, 0, 1]);
    const { tensors: back, metadata } = await loadSafetensors(path, device);
    expect(metadata).toEqual({ note: 'test' });
    for (const [k, t] of Object.entries(tensors)) {
      expect(back.get(k)!.dtype, k).toBe(t.dtype);
      expect(Array.from(await back.get(k)!.toArray()), k).toEqual(Array.from(await t.toArray()));
    }
  });

  it('names the file in load errors', async () => {
    const path = join(dir, 'broken.safetensors');
    writeFileSync(path, good().subarray(0, 30));
    await expect(loadSafetensors(path, device)).rejects.toThrow(
      /broken\.safetensors: .*truncated or corrupt/,
    );
  });
});
