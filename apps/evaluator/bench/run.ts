/**
 * Generation throughput at batch 1 and 8 (and without the KV cache, the peer), and the
 * completion service's latency under a fixed, bounded load on 127.0.0.1. Prints a table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { loadCheckpoint } from '../src/checkpoint/load-checkpoint.js';
import { decodeBatch } from '../src/generate/decode-batch.js';
import { CompletionServer } from '../src/serve/completion-server.js';
import { LatencyTracker } from '../src/serve/latency-tracker.js';
import { buildTinyCheckpoint } from '../src/test-support/tiny-checkpoint.js';

const NEW_TOKENS = 32;
const REQUESTS = 32;
const CONCURRENCY = 8;

const device = await Device.open({ backend: 'auto' });
const dir = await mkdtemp(join(tmpdir(), 'fathom-eval-bench-'));
await buildTinyCheckpoint(dir, device, {
  config: {
    hiddenSize: 64,
    intermediateSize: 172,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 2,
    maxPositionEmbeddings: 128,
  },
});
const ck = await loadCheckpoint(dir, device);
const prompt = ck.tokenizer.encode('The Fulton County Grand Jury said Friday an investigation');

async function tokensPerSecond(batch: number, useCache: boolean): Promise<number> {
  const requests = Array.from({ length: batch }, () => ({
    prompt,
    maxTokens: NEW_TOKENS,
    temperature: 0,
    stopOnEos: false,
  }));
  await decodeBatch(
    ck.model,
    ck.tokenizer,
    requests.map((r) => ({ ...r, maxTokens: 2 })),
    { useCache },
  );
  const start = performance.now();
  const results = await decodeBatch(ck.model, ck.tokenizer, requests, { useCache });
  const generated = results.reduce((n, r) => n + r.tokens.length, 0);
  return generated / ((performance.now() - start) / 1000);
}

const rows: [string, string][] = [];
const b1 = await tokensPerSecond(1, true);
const b8 = await tokensPerSecond(8, true);
const b1NoCache = await tokensPerSecond(1, false);
rows.push(['generate batch 1, KV cache (tokens/s)', b1.toFixed(1)]);
rows.push(['generate batch 8, KV cache (tokens/s)', b8.toFixed(1)]);
rows.push(['generate batch 1, recompute, the peer (tokens/s)', b1NoCache.toFixed(1)]);
rows.push(['batch 8 / batch 1', (b8 / b1).toFixed(2)]);
rows.push(['KV cache / recompute at batch 1', (b1 / b1NoCache).toFixed(2)]);

const server = new CompletionServer(ck, { maxBatchSize: 8, batchWindowMs: 5, maxTokens: 64 });
const port = await server.listen(0, '127.0.0.1');
const prompts = ['The jury said', 'A man walked into the', 'In the morning', 'It was a dark and'];
const client = new LatencyTracker();
let next = 0;
const loadStart = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      const t0 = performance.now();
      const r = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt: prompts[i % prompts.length],
          max_tokens: 16,
          temperature: 0,
        }),
        signal: AbortSignal.timeout(120_000),
      });
      if (r.status !== 200) throw new Error(`request ${i}: HTTP ${r.status} ${await r.text()}`);
      await r.json();
      client.record(performance.now() - t0);
    }
  }),
);
const wall = (performance.now() - loadStart) / 1000;
const m = client.summary();
const stats = server.scheduler.stats;
await server.close();
rows.push([
  `service: ${REQUESTS} requests, ${CONCURRENCY} concurrent, 16 tokens each`,
  `${wall.toFixed(2)} s`,
]);
rows.push(['service latency p50 (ms)', m.p50!.toFixed(1)]);
rows.push(['service latency p99 (ms)', m.p99!.toFixed(1)]);
rows.push(['service throughput (requests/s)', (REQUESTS / wall).toFixed(2)]);
rows.push(['service mean batch size', (stats.sequences / stats.batches).toFixed(2)]);

ck.model.dispose();
device.close();
await rm(dir, { recursive: true, force: true });

const width = Math.max(...rows.map(([k]) => k.length));
console.log(
  `fathom-eval bench (${device.kind}; model: 4 layers, hidden 64, vocab ${ck.config.vocabSize})`,
);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v.padStart(10)}`);
