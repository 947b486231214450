import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTokenizer } from '@fathom/data-pipeline';
import { CausalLm, fromHfConfig, loadSafetensors } from '@fathom/nn-layers';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { parseMetrics } from '../metrics/metrics-log.js';
import type { EvalRecord, TrainRecord } from '../metrics/records.js';
import { prepareData } from '../prepare/prepare.js';
import { silentLog } from '../io.js';
import { tempDir, tinyConfig } from '../test-support/fixtures.js';
import { type TrainResult, runTraining } from './trainer.js';

describe('training a tiny model on WebGPU', () => {
  let device: Device;
  let runDir: string;
  let result: TrainResult;
  const messages: string[] = [];

  beforeAll(async () => {
    device = await Device.open({ backend: 'webgpu' });
    runDir = await tempDir('train');
    result = await runTraining({
      config: tinyConfig({ 'training.steps': 12, 'training.checkpointInterval': 5 }),
      runDir,
      device,
      handleSignals: false,
      log: { info: (m) => messages.push(m), warn: (m) => messages.push(m) },
    });
  });
  afterAll(() => device?.close());

  it('finishes and the loss goes down', async () => {
    expect(result.status).toBe('finished');
    expect(result.step).toBe(12);
    const records = parseMetrics(await readFile(join(runDir, 'metrics.jsonl'), 'utf8'));
    const train = records.filter((r): r is TrainRecord => r.type === 'train');
    expect(train.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const first = (train[0]!.loss + train[1]!.loss) / 2;
    const last = (train[10]!.loss + train[11]!.loss) / 2;
    expect(last).toBeLessThan(first - 0.3);
    // Untrained, the loss is about ln(vocab).
    expect(train[0]!.loss).toBeGreaterThan(Math.log(512) - 0.5);
  });

  it('writes metrics lines that parse, with norms, lr, throughput and memory', async () => {
    const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8');
    const lines = text.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    const records = parseMetrics(text);
    const train = records.filter((r): r is TrainRecord => r.type === 'train');
    for (const r of train) {
      expect(r.layerGradNorms).toHaveLength(2);
      // The global norm covers the per-layer ones (plus embeddings and the final norm).
      const layers = Math.hypot(...r.layerGradNorms!);
      expect(r.gradNorm!).toBeGreaterThanOrEqual(layers * (1 - 1e-5));
      expect(r).toMatchObject({ lossScale: 1, stepSkipped: false, skippedSteps: 0 });
      expect(r.tokensPerSecond).toBeGreaterThan(0);
      expect(r.memory.liveBytes).toBeGreaterThan(0);
    }
    // warmupCosine over 12 steps with 2 warm-up steps: lr 0, 0.005, then the peak 0.01.
    expect(train.slice(0, 3).map((r) => r.lr)).toEqual([0, 0.005, 0.01]);
    // Nothing leaks: live tensors are the same after every step once the optimizer state exists.
    const live = train.slice(1).map((r) => r.memory.liveTensors);
    expect(new Set(live).size).toBe(1);
    const evals = records.filter((r): r is EvalRecord => r.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([4, 8, 12]);
    for (const e of evals) expect(e.valPerplexity).toBeCloseTo(Math.exp(e.valLoss), 6);
    expect(
      records.filter((r) => r.type === 'event').map((r) => (r as { event: string }).event),
    ).toEqual(['start', 'checkpoint', 'checkpoint', 'checkpoint', 'finish']);
  });

  it('keeps the newest checkpoints, each verified', async () => {
    const names = (await readdir(join(runDir, 'checkpoints'))).sort();
    expect(names).toEqual(['step-000010', 'step-000012']);
    const c = await readCheckpoint(join(runDir, 'checkpoints', 'step-000012'));
    expect(c.step).toBe(12);
    expect(c.state.loader.position).toBe(12 * 4);
    expect(c.state.tokensSeen).toBe(12 * 4 * 16);
    expect(Object.keys(c.state.generators)).toContain('global');
  });

  it('records the fully resolved config', async () => {
    const saved = JSON.parse(
      await readFile(join(runDir, 'config.json'), 'utf8'),
    ) as typeof result.config;
    expect(saved.model.vocabSize).toBe(512);
    expect(saved.model.maxPositionEmbeddings).toBe(16);
    expect(saved.model.seed).toBe(7);
    expect(saved.data.dir).toMatch(/^\//);
    expect(saved.optimizer).toEqual({
      name: 'adamw',
      lr: 0.01,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
  });

  it('exports the final model in Hugging Face layout, loadable as it is', async () => {
    const dir = join(runDir, 'final');
    expect((await readdir(dir)).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const hf = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(hf).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 512,
      hidden_size: 32,
      num_hidden_layers: 2,
      tie_word_embeddings: true,
    });
    const model = new CausalLm(fromHfConfig(hf), { device });
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'), device);
    expect(model.loadStateDict(tensors)).toEqual({ missing: [], unexpected: [] });
    // The export holds the trained weights: the same bytes as the last checkpoint's.
    const last = await readCheckpoint(join(runDir, 'checkpoints', 'step-000012'));
    const raw = last.model.tensors.get('model.norm.weight')!;
    expect(Array.from(await tensors.get('model.norm.weight')!.toArray())).toEqual(
      Array.from(new Float32Array(raw.data.slice().buffer)),
    );
    for (const t of tensors.values()) t.dispose();
    model.dispose();
    const tokenizer = loadTokenizer(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const prepared = await prepareData(result.config.data, { log: silentLog });
    const text = 'The jury said it did find that many of the voters';
    expect(tokenizer.encode(text)).toEqual(prepared.tokenizer.encode(text));
  });

  it('compares with the unigram baseline and prints a sample', () => {
    expect(result.unigramEntropy).toBeGreaterThan(4);
    expect(result.validation!.loss).toBeLessThan(Math.log(512));
    expect(result.sample).toMatch(/^The/);
    expect(messages.some((m) => m.startsWith('sample (greedy, KV cache): "The'))).toBe(true);
    expect(messages.some((m) => /unigram baseline/.test(m))).toBe(true);
  });
});
