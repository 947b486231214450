import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardWindows, TokenShardWriter, TokenWindowLoader } from './index.js';
import type { TokenBatch, TokenWindowLoaderOptions, TokenWindowLoaderState } from './index.js';

// Shard s holds tokens s * 100000 + i, so every token says which shard and position it is.
const SIZES = [1000, 37, 513, 2049];
let dir: string;
let paths: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-loader-'));
  paths = [];
  for (const [s, size] of SIZES.entries()) {
    const path = join(dir, `s${s}.bin`);
    const writer = await TokenShardWriter.create(path, { dtype: 'u32' });
    const tokens = Array.from({ length: size }, (_, i) => s * 100_000 + i);
    // Several documents per shard; windows may cross documents but never shards.
    for (let i = 0; i < size; i += 100) await writer.appendDocument(tokens.slice(i, i + 100));
    await writer.close();
    paths.push(path);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function take(loader: TokenWindowLoader, n: number): Promise<TokenBatch[]> {
  const out: TokenBatch[] = [];
  for (let i = 0; i < n; i++) {
    const b = await loader.next();
    if (!b) break;
    out.push(b);
  }
  return out;
}

const open = (options: TokenWindowLoaderOptions) => TokenWindowLoader.open(paths, options);

describe('ShardWindows', () => {
  it('numbers exactly the windows that fit in each shard', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 60 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        (counts, ctx, stride) => {
          const w = new ShardWindows(counts, ctx, stride);
          const brute: string[] = [];
          counts.forEach((n, s) => {
            for (let start = 0; start + ctx + 1 <= n; start += stride) brute.push(`${s}:${start}`);
          });
          expect(w.total).toBe(brute.length);
          for (let i = 0; i < w.total; i++) {
            const { shard, start } = w.locate(i);
            expect(`${shard}:${start}`).toBe(brute[i]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('TokenWindowLoader', () => {
  it('yields contiguous windows inside one shard, with targets shifted by one', async () => {
    const T = 64;
    const loader = await open({ contextLength: T, batchSize: 4, seed: 3, epochs: 1 });
    let rows = 0;
    for await (const batch of loader) {
      for (let r = 0; r < batch.rows; r++) {
        const first = batch.inputs[r * T]!;
        const shard = Math.floor(first / 100_000);
        const start = first % 100_000;
        expect(batch.windows[r]).toEqual({ shard, start });
        // No window reads past its shard's end.
        expect(start + T + 1).toBeLessThanOrEqual(SIZES[shard]!);
        for (let k = 0; k < T; k++) {
          expect(batch.inputs[r * T + k]).toBe(first + k);
          expect(batch.targets[r * T + k]).toBe(first + k + 1);
        }
        rows++;
      }
    }
    await loader.close();
    expect(rows).toBe(Math.floor(loader.windowsPerEpoch / 4) * 4);
  });

  it('visits every window once per epoch, in a different order each epoch', async () => {
    const loader = await open({ contextLength: 16, batchSize: 1, seed: 9, epochs: 2, prefetch: 4 });
    const perEpoch = loader.windowsPerEpoch;
    // Shard 1 (37 tokens) holds 2 windows of 17 tokens; stride 16.
    expect(perEpoch).toBe(62 + 2 + 32 + 128);
    const batches = await take(loader, 2 * perEpoch + 1);
    expect(batches).toHaveLength(2 * perEpoch);
    const key = (b: TokenBatch) => `${b.windows[0]!.shard}:${b.windows[0]!.start}`;
    const e0 = batches.slice(0, perEpoch).map(key);
    const e1 = batches.slice(perEpoch).map(key);
    expect(new Set(e0).size).toBe(perEpoch);
    expect([...e1].sort()).toEqual([...e0].sort());
    expect(e1).not.toEqual(e0);
    expect(batches[perEpoch]!.epoch).toBe(1);
    await loader.close();
  });

  it('resumes from a saved JSON state with the same next batches', async () => {
    const options = { contextLength: 32, batchSize: 5, seed: 21, prefetch: 3 };
    const reference = await open(options);
    const expected = await take(reference, 60); // runs across epoch boundaries
    await reference.close();

    const first = await open(options);
    await take(first, 23);
    const saved = JSON.parse(JSON.stringify(first.state())) as TokenWindowLoaderState;
    expect(saved.position).toBe(23 * 5);
    await first.close();

    const resumed = await open({ ...options, resumeFrom: saved });
    const rest = await take(resumed, 37);
    expect(rest.map((b) => Array.from(b.inputs))).toEqual(
      expected.slice(23).map((b) => Array.from(b.inputs)),
    );
    expect(rest.map((b) => Array.from(b.targets))).toEqual(
      expected.slice(23).map((b) => Array.from(b.targets)),
    );
    await resumed.close();

    await expect(open({ ...options, seed: 22, resumeFrom: saved })).rejects.toThrow(
      /resume state has seed 21; expected 22/,
    );
    await expect(
      TokenWindowLoader.open(paths.slice(1), { ...options, resumeFrom: saved }),
    ).rejects.toThrow(/shard token counts/);
  });

  it('gives the same batches with or without prefetch and without shuffling', async () => {
    const a = await open({ contextLength: 8, batchSize: 3, seed: 1, prefetch: 0 });
    const b = await open({ contextLength: 8, batchSize: 3, seed: 1, prefetch: 6 });
    const [x, y] = [await take(a, 50), await take(b, 50)];
    expect(x.map((t) => Array.from(t.inputs))).toEqual(y.map((t) => Array.from(t.inputs)));
    await Promise.all([a.close(), b.close()]);
    const ordered = await open({ contextLength: 8, batchSize: 2, shuffle: false, epochs: 1 });
    const first = await take(ordered, 2);
    expect(first.flatMap((t) => t.windows)).toEqual([
      { shard: 0, start: 0 },
      { shard: 0, start: 8 },
      { shard: 0, start: 16 },
      { shard: 0, start: 24 },
    ]);
    await ordered.close();
  });

  it('keeps or drops a final partial batch', async () => {
    const keep = await open({ contextLength: 512, batchSize: 4, epochs: 1, dropLast: false });
    // Windows of 513 tokens at stride 512: shard 0 has 1, shard 2 has 1, shard 3 has 4.
    expect(keep.windowsPerEpoch).toBe(6);
    expect((await take(keep, 5)).map((b) => b.rows)).toEqual([4, 2]);
    await keep.close();
    const drop = await open({ contextLength: 512, batchSize: 4, epochs: 1 });
    expect((await take(drop, 5)).map((b) => b.rows)).toEqual([4]);
    await drop.close();
  });

  it('names bad options', async () => {
    await expect(open({ contextLength: 0, batchSize: 1 })).rejects.toThrow(
      /options.contextLength is 0/,
    );
    await expect(open({ contextLength: 5000, batchSize: 1 })).rejects.toThrow(
      /no shard holds contextLength \+ 1 = 5001 tokens \(largest has 2049\)/,
    );
    await expect(TokenWindowLoader.open([], { contextLength: 4, batchSize: 1 })).rejects.toThrow(
      /paths has 0 entries/,
    );
  });
});
