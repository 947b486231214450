import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTokenShards } from '@fathom/data-pipeline';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedCheckpoint, loadCheckpoint } from '../checkpoint/load-checkpoint.js';
import { fullLogits, logProb } from '../test-support/oracle.js';
import { buildTinyCheckpoint } from '../test-support/tiny-checkpoint.js';
import { loadEvalSequences } from './data-source.js';
import { perplexityOf } from './perplexity-report.js';
import { slidingWindowNll } from './sliding-perplexity.js';
import { planWindows } from './window-plan.js';

let device: Device;
let dir: string;
let ck: LoadedCheckpoint;
const TEXT =
  'The Fulton County Grand Jury said Friday an investigation of recent primary elections produced no evidence that any irregularities took place. The jury further said in term-end presentments that the City Executive Committee deserves praise.';

beforeAll(async () => {
  device = await Device.open({ backend: 'webgpu' });
  dir = await mkdtemp(join(tmpdir(), 'fathom-eval-ppl-'));
  await buildTinyCheckpoint(dir, device, { config: { maxPositionEmbeddings: 32 } });
  ck = await loadCheckpoint(dir, device);
});
afterAll(async () => {
  ck.model.dispose();
  device.close();
  await rm(dir, { recursive: true, force: true });
});

/** −log p of each token p ≥ 1 given tokens [begin(p), p), by one forward per distinct begin. */
async function directNll(ids: number[], begin: (p: number) => number): Promise<number[]> {
  const out: number[] = [];
  const cache = new Map<string, number[][]>();
  for (let p = 1; p < ids.length; p++) {
    const b = begin(p);
    const key = `${b}`;
    let logits = cache.get(key);
    // Each window's logits cover its positions; causality makes a longer window's prefix equal.
    if (!logits || logits.length < p - b) {
      logits = await fullLogits(ck.model, ids.slice(b, Math.min(ids.length, b + 31)));
      cache.set(key, logits);
    }
    out.push(-logProb(logits[p - 1 - b]!, ids[p]!));
  }
  return out;
}

describe('sliding-window perplexity', () => {
  it('plans windows that score every token after the first exactly once', () => {
    for (const [n, c, s] of [
      [100, 16, 16],
      [100, 16, 5],
      [17, 16, 1],
      [5, 16, 8],
    ] as const) {
      const seen = new Array<number>(n).fill(0);
      for (const w of planWindows(n, c, s)) {
        expect(w.end - w.begin).toBeLessThanOrEqual(c);
        for (let p = w.scoreFrom; p < w.end; p++) seen[p]!++;
      }
      // With stride = context a window's first token has no context inside it and is skipped.
      const skipped = s === c ? Math.ceil(n / c) : 1;
      expect(seen.filter((x) => x === 1).length).toBe(n - skipped);
      expect(seen.every((x) => x <= 1)).toBe(true);
    }
    expect(() => planWindows(10, 8, 9)).toThrow(
      'stride is 9; expected an integer in [1, context = 8]',
    );
  });

  it('equals exp(mean NLL) computed directly when the text fits one window', async () => {
    const ids = ck.tokenizer.encode(TEXT).slice(0, 30);
    const r = await perplexityOf(ck.model, ck.tokenizer, [ids], { context: 32, stride: 16 });
    const nll = await directNll(ids, () => 0);
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    expect(r.tokens).toBe(ids.length - 1);
    expect(r.meanNll).toBeCloseTo(mean, 4);
    expect(r.perplexity / Math.exp(mean)).toBeCloseTo(1, 4);
    const bytes = new TextEncoder().encode(ck.tokenizer.decode(ids.slice(1))).length;
    expect(r.bytes).toBe(bytes);
    expect(r.bitsPerByte).toBeCloseTo((mean * nll.length) / Math.LN2 / bytes, 4);
  });

  it('with stride = context equals scoring non-overlapping chunks', async () => {
    const ids = ck.tokenizer.encode(TEXT + ' ' + TEXT);
    expect(ids.length).toBeGreaterThan(70);
    const windowed = await slidingWindowNll(ck.model, ids, { context: 16, stride: 16 });
    let total = 0;
    let count = 0;
    for (let start = 0; start < ids.length; start += 16) {
      const chunk = ids.slice(start, start + 16);
      const logits = await fullLogits(ck.model, chunk);
      for (let p = 1; p < chunk.length; p++) {
        total += -logProb(logits[p - 1]!, chunk[p]!);
        count++;
      }
    }
    expect(windowed.scored).toBe(count);
    expect(windowed.totalNll / windowed.scored).toBeCloseTo(total / count, 4);
  });

  it('with stride < context gives each token the closed-form left context', async () => {
    const ids = ck.tokenizer.encode(TEXT).slice(0, 60);
    const [c, s] = [16, 6];
    const r = await slidingWindowNll(ck.model, ids, { context: c, stride: s, batchSize: 3 });
    // Token p is scored by the first window whose end passes p.
    const begin = (p: number): number => (p < c ? 0 : (Math.floor((p - c) / s) + 1) * s);
    const cache = new Map<number, number[][]>();
    for (let p = 1; p < ids.length; p++) {
      const b = begin(p);
      if (!cache.has(b)) cache.set(b, await fullLogits(ck.model, ids.slice(b, b + c - 1)));
      expect(r.nll[p]).toBeCloseTo(-logProb(cache.get(b)![p - 1 - b]!, ids[p]!), 4);
    }
    expect(r.scored).toBe(ids.length - 1);
  });

  it('leaves device memory as it found it', async () => {
    const ids = ck.tokenizer.encode(TEXT);
    await slidingWindowNll(ck.model, ids, { context: 16, stride: 8 });
    const before = device.memory().liveTensors;
    await slidingWindowNll(ck.model, ids, { context: 16, stride: 8 });
    expect(device.memory().liveTensors).toBe(before);
  });

  it('rejects a context beyond the model and names the argument', async () => {
    await expect(slidingWindowNll(ck.model, [1, 2, 3], { context: 64 })).rejects.toThrow(
      "perplexity: context is 64; expected at most the model's maxPositionEmbeddings 32",
    );
  });

  it('reads text files and Brown documents with a document-start token', async () => {
    const path = join(dir, 'eval.txt');
    await writeFile(path, TEXT);
    const [seq] = await loadEvalSequences(path, ck.tokenizer);
    expect(seq![0]).toBe(ck.tokenizer.eosId);
    expect(seq!.slice(1)).toEqual(ck.tokenizer.encode(TEXT));
    const brown = await loadEvalSequences('brown:validation', ck.tokenizer, { maxTokens: 500 });
    expect(brown.reduce((n, s) => n + s.length, 0)).toBe(500);
    const shards = join(dir, 'shards');
    await writeTokenShards([TEXT, TEXT.slice(0, 50)], ck.tokenizer, {
      directory: shards,
      eosToken: ck.tokenizer.eosId!,
    });
    const fromShards = await loadEvalSequences(shards, ck.tokenizer);
    expect(fromShards).toEqual([
      [
        ...ck.tokenizer.encode(TEXT),
        ck.tokenizer.eosId,
        ...ck.tokenizer.encode(TEXT.slice(0, 50)),
        ck.tokenizer.eosId,
      ],
    ]);
    await expect(loadEvalSequences(join(dir, 'nope.txt'), ck.tokenizer)).rejects.toThrow(
      'no such file or directory',
    );
  });
});
