import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedCheckpoint, loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { decodeBatch } from '../generate/decode-batch.js';
import { buildTinyCheckpoint } from '../test-support/tiny-checkpoint.js';
import { CompletionServer } from './completion-server.js';
import { LatencyTracker } from './latency-tracker.js';

let device: Device;
let dir: string;
let ck: LoadedCheckpoint;
let server: CompletionServer;
let base: string;

beforeAll(async () => {
  device = await Device.open({ backend: 'webgpu' });
  dir = await mkdtemp(join(tmpdir(), 'fathom-eval-serve-'));
  await buildTinyCheckpoint(dir, device, { config: { maxPositionEmbeddings: 64 } });
  ck = await loadCheckpoint(dir, device);
  server = new CompletionServer(ck, { maxPromptTokens: 40, maxTokens: 16, batchWindowMs: 20 });
  const port = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.close();
  ck.model.dispose();
  device.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (body: unknown, raw?: string): Promise<Response> =>
  fetch(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });

describe('completion service on 127.0.0.1', () => {
  it('answers health checks', async () => {
    const r = await fetch(`${base}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', limits: { maxPromptTokens: 40 } });
  });

  it('answers concurrent requests correctly, batched, with the same greedy tokens as one by one', async () => {
    const prompts = [
      'The jury said',
      'A man walked into',
      'In the morning the',
      'She had never',
      'The city of',
      'It was a dark',
      'They went home',
      'He looked at the',
      'Nobody knew why',
      'The committee',
    ];
    const maxTokens = [5, 8, 3, 8, 6, 8, 4, 7, 8, 5];
    const answers = await Promise.all(
      prompts.map(async (prompt, i) => {
        const r = await post({ prompt, max_tokens: maxTokens[i], temperature: 0 });
        expect(r.status).toBe(200);
        return (await r.json()) as {
          choices: { text: string; finish_reason: string }[];
          usage: { prompt_tokens: number; completion_tokens: number };
        };
      }),
    );
    for (const [i, prompt] of prompts.entries()) {
      const ids = ck.tokenizer.encode(prompt);
      const [alone] = await decodeBatch(ck.model, ck.tokenizer, [
        { prompt: ids, maxTokens: maxTokens[i]!, temperature: 0 },
      ]);
      const a = answers[i]!;
      expect(a.choices[0]!.text).toBe(alone!.text);
      expect(a.usage.prompt_tokens).toBe(ids.length);
      expect(a.usage.completion_tokens).toBe(alone!.tokens.length);
    }
    // Requests of equal prompt length arrived together, so some were decoded in one batch.
    expect(server.scheduler.stats.maxBatchSize).toBeGreaterThan(1);
  });

  it('streams server-sent events ending in [DONE]', async () => {
    const r = await post({ prompt: 'The jury said', max_tokens: 6, temperature: 0, stream: true });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const events = (await r.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice(6)) as {
        choices: { text: string; finish_reason: string | null }[];
      };
    });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).not.toBeNull();
    const [alone] = await decodeBatch(ck.model, ck.tokenizer, [
      { prompt: ck.tokenizer.encode('The jury said'), maxTokens: 6, temperature: 0 },
    ]);
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe(alone!.text);
  });

  it.each<[string, unknown, string | undefined, number, RegExp]>([
    ['malformed JSON', undefined, '{"prompt": "a",', 400, /not valid JSON/],
    ['a non-object body', [1, 2], undefined, 400, /expected a JSON object/],
    ['a numeric prompt', { prompt: 42 }, undefined, 400, /'prompt' must be a string; got 42/],
    [
      'a string max_tokens',
      { prompt: 'a', max_tokens: '5' },
      undefined,
      400,
      /'max_tokens' must be an integer; got "5"/,
    ],
    [
      'negative max_tokens',
      { prompt: 'a', max_tokens: -3 },
      undefined,
      400,
      /'max_tokens' must be >= 1; got -3/,
    ],
    [
      'max_tokens over the limit',
      { prompt: 'a', max_tokens: 17 },
      undefined,
      400,
      /'max_tokens' must be <= 16/,
    ],
    [
      'temperature out of range',
      { prompt: 'a', temperature: 5 },
      undefined,
      400,
      /'temperature' must be <= 2/,
    ],
    [
      'an over-long prompt',
      { prompt: 'word '.repeat(200) },
      undefined,
      400,
      /'prompt' has \d+ tokens; the limit is 40/,
    ],
    [
      'a wrong stop type',
      { prompt: 'a', stop: 7 },
      undefined,
      400,
      /'stop' must be a non-empty string or an array/,
    ],
    [
      'an unsupported field',
      { prompt: 'a', echo: true },
      undefined,
      400,
      /'echo' is not supported/,
    ],
  ])('rejects %s with a 4xx and a message', async (_name, body, raw, status, message) => {
    const r = await post(body, raw);
    expect(r.status).toBe(status);
    const json = (await r.json()) as { error: { message: string; type: string } };
    expect(json.error.message).toMatch(message);
    expect(json.error.type).toBe('invalid_request_error');
  });

  it('rejects wrong routes, methods and content types, and keeps serving', async () => {
    expect((await fetch(`${base}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/v1/completions`)).status).toBe(405);
    const wrongType = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    const ok = await post({ prompt: 'Still here', max_tokens: 2, temperature: 0 });
    expect(ok.status).toBe(200);
  });

  it('leaves device memory as it found it after serving', async () => {
    const before = device.memory().liveTensors;
    await Promise.all(['One two', 'Three four'].map((prompt) => post({ prompt, max_tokens: 3 })));
    expect(device.memory().liveTensors).toBe(before);
  });

  it('reports latency percentiles and batch sizes at /metrics', async () => {
    const m = (await (await fetch(`${base}/metrics`)).json()) as {
      completed: number;
      errors_4xx: number;
      latency_ms: { p50: number; p99: number };
      batches: { max_size: number };
    };
    expect(m.completed).toBeGreaterThanOrEqual(12);
    expect(m.errors_4xx).toBeGreaterThanOrEqual(13);
    expect(m.latency_ms.p50).toBeGreaterThan(0);
    expect(m.latency_ms.p99).toBeGreaterThanOrEqual(m.latency_ms.p50);
  });
});

describe('LatencyTracker', () => {
  it('computes nearest-rank percentiles', () => {
    const t = new LatencyTracker();
    for (let i = 1; i <= 100; i++) t.record(i);
    expect(t.percentile(50)).toBe(50);
    expect(t.percentile(99)).toBe(99);
    expect(t.percentile(100)).toBe(100);
    const w = new LatencyTracker(3);
    for (const x of [100, 1, 2, 3]) w.record(x);
    expect(w.summary()).toMatchObject({ count: 4, max: 3, p50: 2 });
  });
});
