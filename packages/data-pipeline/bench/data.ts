// Data-pipeline throughput: near-deduplication, quality filtering, shard writing, the window
// loader and length bucketing. Run from the package: node --import tsx bench/data.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bucketBatches,
  exactDedup,
  gopherQualityFilter,
  loadBrownCorpus,
  minhashDedup,
  paddingReport,
  randomSwap,
  TokenShardWriter,
  TokenWindowLoader,
  Xoshiro128,
} from '../src/index.js';
import type { CleaningStep, TextDocument } from '../src/index.js';

interface Row {
  benchmark: string;
  items: string;
  rate: string;
  bytes: string;
  note: string;
}

const rows: Row[] = [];
const fmt = (x: number, unit: string): string =>
  x >= 1e6
    ? `${(x / 1e6).toFixed(2)} M${unit}`
    : x >= 1e3
      ? `${(x / 1e3).toFixed(1)} k${unit}`
      : `${x.toFixed(1)} ${unit}`;

function timeStep(
  name: string,
  step: CleaningStep,
  docs: TextDocument[],
  note: (removed: number) => string,
): void {
  const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d.text), 0);
  const t0 = performance.now();
  let removed = 0;
  for (const d of docs) if (step.apply(d).action === 'remove') removed++;
  const s = (performance.now() - t0) / 1000;
  rows.push({
    benchmark: name,
    items: `${docs.length} docs`,
    rate: `${fmt(docs.length / s, 'docs/s')}`,
    bytes: `${(bytes / 1e6 / s).toFixed(1)} MB/s`,
    note: note(removed),
  });
}

async function cleaning(): Promise<void> {
  const brown = await loadBrownCorpus();
  // Each Brown document plus an edited copy (about 0.2 % of words swapped), which MinHash
  // should catch, in a shuffled order.
  const rng = new Xoshiro128(1);
  const swap = randomSwap({ fraction: 0.002 });
  const docs: TextDocument[] = [...brown];
  for (const d of brown) docs.push({ id: `${d.id}~`, text: swap.apply(d.text, rng) });
  timeStep(
    'minhash-dedup (5-gram, 128 perm, 9x13)',
    minhashDedup(),
    docs,
    (r) => `${r} of ${brown.length} copies removed`,
  );
  timeStep('exact-dedup (FNV-1a 64)', exactDedup(), [...brown, ...brown], (r) => `${r} removed`);
  timeStep('gopher-quality', gopherQualityFilter(), brown, (r) => `${r} removed`);
}

async function shards(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-'));
  try {
    const rng = new Xoshiro128(2);
    const perShard = 8_000_000;
    const doc = new Uint16Array(4096);
    const paths: string[] = [];
    const t0 = performance.now();
    for (let s = 0; s < 2; s++) {
      const path = join(dir, `bench-${s}.bin`);
      const writer = await TokenShardWriter.create(path, { dtype: 'u16', vocabSize: 50_257 });
      for (let written = 0; written < perShard; written += doc.length) {
        for (let i = 0; i < doc.length; i++) doc[i] = rng.nextInt(50_257);
        await writer.appendDocument(doc);
      }
      await writer.close();
      paths.push(path);
    }
    const ws = (performance.now() - t0) / 1000;
    const total = 2 * Math.ceil(perShard / doc.length) * doc.length;
    rows.push({
      benchmark: 'TokenShardWriter (u16)',
      items: `${fmt(total, 'tokens')}`,
      rate: fmt(total / ws, 'tok/s'),
      bytes: `${((2 * total) / 1e6 / ws).toFixed(1)} MB/s`,
      note: 'includes generating the random tokens',
    });

    for (const [T, B] of [
      [1024, 16],
      [256, 64],
    ] as const) {
      const loader = await TokenWindowLoader.open(paths, {
        contextLength: T,
        batchSize: B,
        seed: 3,
        prefetch: 4,
      });
      const batches = 400;
      const t1 = performance.now();
      for (let i = 0; i < batches; i++) await loader.next();
      const ls = (performance.now() - t1) / 1000;
      await loader.close();
      const tokens = batches * B * T;
      rows.push({
        benchmark: `TokenWindowLoader T=${T} B=${B}`,
        items: `${batches} batches`,
        rate: fmt(tokens / ls, 'tok/s'),
        bytes: `${((2 * tokens) / 1e6 / ls).toFixed(1)} MB/s`,
        note: 'shuffled windows, prefetch 4',
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function bucketing(): void {
  const rng = new Xoshiro128(4);
  const lengths = Array.from({ length: 100_000 }, () => {
    const z =
      Math.sqrt(-2 * Math.log(Math.max(rng.nextFloat(), 1e-12))) *
      Math.cos(2 * Math.PI * rng.nextFloat());
    return Math.min(8192, Math.max(1, Math.round(Math.exp(5 + 1.2 * z))));
  });
  const items = lengths.map((length) => ({ length }));
  const t0 = performance.now();
  const batches = [...bucketBatches(items, { maxTokensPerBatch: 16_384, tolerance: 0.1 })];
  const s = (performance.now() - t0) / 1000;
  const report = paddingReport(batches);
  rows.push({
    benchmark: 'bucketBatches (+-10 %, 16k tokens)',
    items: `${fmt(items.length, 'seqs')}`,
    rate: fmt(items.length / s, 'seqs/s'),
    bytes: '-',
    note: `${batches.length} batches, padding ${(100 * report.wasteFraction).toFixed(1)} %`,
  });
}

function print(): void {
  const header: Row = {
    benchmark: 'benchmark',
    items: 'items',
    rate: 'rate',
    bytes: 'bytes',
    note: 'note',
  };
  const keys = Object.keys(header) as (keyof Row)[];
  const width = keys.map((k) => Math.max(header[k].length, ...rows.map((r) => r[k].length)));
  const line = (r: Row) => `| ${keys.map((k, i) => r[k].padEnd(width[i]!)).join(' | ')} |`;
  console.log('\n@fathom/data-pipeline\n');
  console.log(line(header));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

await cleaning();
await shards();
bucketing();
print();
