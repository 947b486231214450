import fc from 'fast-check';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeShardHeader,
  encodeShardHeader,
  SHARD_HEADER_BYTES,
  TokenShardReader,
  TokenShardWriter,
  writeTokenShards,
} from './index.js';
import type { TokenDtype } from './index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-shards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byteTokenizer = { encode: (t: string) => [...Buffer.from(t, 'utf8')], vocabSize: 256 };

describe('token shard format', () => {
  it('round-trips headers', () => {
    const header = {
      version: 1,
      dtype: 'u32' as const,
      tokenCount: 2 ** 40 + 3,
      documentCount: 12,
      indexOffset: 123456,
      vocabSize: 100_277,
      eosToken: 100_257,
    };
    expect(decodeShardHeader(encodeShardHeader(header), 'x')).toEqual(header);
    const bytes = encodeShardHeader({ ...header, eosToken: undefined });
    expect(decodeShardHeader(bytes, 'x').eosToken).toBeUndefined();
    // Little-endian layout: the token count's low byte is at offset 16.
    expect(bytes[16]).toBe(3);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('FTHMTOKS');
    const bad = encodeShardHeader(header);
    bad[0] = 0x41;
    expect(() => decodeShardHeader(bad, 'f.bin')).toThrow(
      /f.bin: magic is "ATHMTOKS"; expected "FTHMTOKS"/,
    );
  });

  it('reads back exactly what was written, for any documents', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<TokenDtype>('u16', 'u32'),
        fc.array(fc.array(fc.nat({ max: 65535 }), { maxLength: 300 }), { maxLength: 12 }),
        fc.option(fc.nat({ max: 65535 }), { nil: undefined }),
        fc.integer({ min: 8, max: 64 }),
        async (dtype, docs, eos, bufferBytes) => {
          const path = join(dir, `prop-${n++}.bin`);
          const writer = await TokenShardWriter.create(path, {
            dtype,
            bufferBytes,
            ...(eos === undefined ? {} : { eosToken: eos }),
          });
          for (const d of docs) await writer.appendDocument(d);
          const summary = await writer.close();
          const expectedDocs = docs.map((d) => (eos === undefined ? d : [...d, eos]));
          const all = expectedDocs.flat();
          expect(summary.header.tokenCount).toBe(all.length);
          const reader = await TokenShardReader.open(path);
          try {
            expect(reader.documentCount).toBe(docs.length);
            expect(Array.from(await reader.readTokens(0, all.length))).toEqual(all);
            for (let i = 0; i < docs.length; i++) {
              expect(Array.from(await reader.readDocument(i))).toEqual(expectedDocs[i]);
            }
            if (all.length > 0) {
              const start = Math.floor(all.length / 3);
              const count = Math.ceil((all.length - start) / 2);
              expect(Array.from(await reader.readTokens(start, count))).toEqual(
                all.slice(start, start + count),
              );
            }
            const offsets = Array.from(await reader.documentOffsets());
            expect(offsets.at(-1)).toBe(all.length);
          } finally {
            await reader.close();
            await rm(path);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('rejects bad tokens without writing a partial document, and damaged files', async () => {
    const path = join(dir, 'bad.bin');
    const writer = await TokenShardWriter.create(path, { dtype: 'u16', vocabSize: 100 });
    await writer.appendDocument([1, 2, 3]);
    await expect(writer.appendDocument([4, 100, 5])).rejects.toThrow(
      /tokens\[1\] of document 1 is 100; expected an integer in \[0, 99\]/,
    );
    await writer.close();
    const reader = await TokenShardReader.open(path);
    expect(reader.tokenCount).toBe(3);
    await expect(reader.readTokens(2, 2)).rejects.toThrow(
      /range \[2, 4\) is outside the shard's 3 tokens/,
    );
    await reader.close();
    await truncate(path, SHARD_HEADER_BYTES + 4);
    await expect(TokenShardReader.open(path)).rejects.toThrow(/file has 68 bytes; expected 88/);
    await expect(
      TokenShardWriter.create(join(dir, 'x.bin'), { dtype: 'u16', vocabSize: 70000 }),
    ).rejects.toThrow(/vocabSize is 70000; expected an integer in \[1, 65536\] for dtype u16/);
  });

  it('writes the layout documented in the README', async () => {
    const path = join(dir, 'layout.bin');
    const writer = await TokenShardWriter.create(path, {
      dtype: 'u16',
      vocabSize: 256,
      eosToken: 0,
    });
    await writer.appendDocument([7, 8, 9]);
    await writer.close();
    const bytes = new Uint8Array(await readFile(path));
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(8, true)).toBe(1); // version
    expect(bytes[12]).toBe(1); // u16
    expect(bytes[13]).toBe(1); // eos flag
    expect(Number(view.getBigUint64(16, true))).toBe(4);
    expect(Number(view.getBigUint64(24, true))).toBe(1);
    expect(Number(view.getBigUint64(32, true))).toBe(72); // 64 + 8 bytes of tokens
    expect([64, 66, 68, 70].map((o) => view.getUint16(o, true))).toEqual([7, 8, 9, 0]);
    expect([72, 80].map((o) => Number(view.getBigUint64(o, true)))).toEqual([0, 4]);
    expect(bytes.length).toBe(88);
  });
});

describe('writeTokenShards', () => {
  it('tokenizes documents into shards without splitting documents', async () => {
    const out = join(dir, 'written');
    const texts = Array.from({ length: 30 }, (_, i) => `document number ${i} `.repeat(1 + (i % 4)));
    const seen: string[] = [];
    const result = await writeTokenShards(
      texts.map((text, i) => ({ id: `d${i}`, text })),
      byteTokenizer,
      { directory: out, maxTokensPerShard: 200, eosToken: 0, onShard: (s) => seen.push(s.path) },
    );
    expect(result.documents).toBe(30);
    const expectedTokens = texts.reduce((s, t) => s + Buffer.byteLength(t) + 1, 0);
    expect(result.tokens).toBe(expectedTokens);
    expect(result.shards.length).toBeGreaterThan(1);
    expect(seen).toEqual(result.shards.map((s) => s.path));
    expect(result.shards[0]!.path).toMatch(/shard-00000\.bin$/);
    // Concatenating the shards' documents gives back every text in order.
    const decoded: string[] = [];
    for (const s of result.shards) {
      expect(s.header.dtype).toBe('u16');
      const reader = await TokenShardReader.open(s.path);
      for (let d = 0; d < reader.documentCount; d++) {
        const tokens = Array.from(await reader.readDocument(d));
        expect(tokens.at(-1)).toBe(0);
        decoded.push(Buffer.from(tokens.slice(0, -1)).toString('utf8'));
      }
      await reader.close();
    }
    expect(decoded).toEqual(texts);
  });

  it('checks the tokenizer', async () => {
    await expect(writeTokenShards(['x'], {} as never, { directory: dir })).rejects.toThrow(
      /tokenizer lacks encode/,
    );
  });
});

describe('fathom-shards CLI', () => {
  it('writes shards from files with a tokenizer module and inspects them', async () => {
    const { createShardsProgram } = await import('./cli.js');
    const tokenizerPath = join(dir, 'byte-tokenizer.mjs');
    await writeFile(
      tokenizerPath,
      "export default { vocabSize: 256, encode: (t) => [...Buffer.from(t, 'utf8')] };\n",
    );
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.jsonl');
    await writeFile(a, 'hello world');
    await writeFile(b, '{"text": "one"}\n{"text": "two", "id": "x"}\n');
    const lines: string[] = [];
    const program = createShardsProgram({ log: (l) => lines.push(l) });
    program.exitOverride();
    const out = join(dir, 'cli');
    await program.parseAsync(
      ['write', a, b, '--out', out, '--tokenizer', tokenizerPath, '--eos', '0'],
      { from: 'user' },
    );
    expect(lines.at(-1)).toBe('wrote 1 shards: 3 documents, 20 tokens');
    lines.length = 0;
    const inspect = createShardsProgram({ log: (l) => lines.push(l) });
    await inspect.parseAsync(['inspect', '--json', join(out, 'shard-00000.bin')], { from: 'user' });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      dtype: 'u16',
      tokenCount: 20,
      documentCount: 3,
      vocabSize: 256,
      eosToken: 0,
    });
    const bad = createShardsProgram({ log: () => undefined });
    bad.exitOverride();
    bad.configureOutput({ writeErr: () => undefined });
    await expect(
      bad.parseAsync(['write', '--out', out, '--tokenizer', tokenizerPath], { from: 'user' }),
    ).rejects.toThrow(/give input files or --brown/);
  });
});
