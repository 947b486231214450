import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { silentLog } from '../io.js';
import { parseMetrics } from '../metrics/metrics-log.js';
import type { TrainRecord } from '../metrics/records.js';
import { tempDir, tinyConfig } from '../test-support/fixtures.js';
import type { TrainConfig } from '../config/schema.js';
import { runTraining } from './trainer.js';

const STEPS = 8;

async function trainRecords(runDir: string): Promise<TrainRecord[]> {
  return parseMetrics(await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).filter(
    (r): r is TrainRecord => r.type === 'train',
  );
}

function meanLoss(records: TrainRecord[]): number {
  return records.reduce((a, r) => a + r.loss, 0) / records.length;
}

describe('mixed precision and MoE runs on WebGPU', () => {
  let device: Device;
  beforeAll(async () => {
    device = await Device.open({ backend: 'webgpu' });
  });
  afterAll(() => device?.close());

  for (const compute of ['bf16', 'f16'] as const) {
    it(`trains in ${compute}: loss goes down, loss scale and skipped steps are logged, masters checkpointed`, async () => {
      const steps = compute === 'f16' ? 12 : STEPS;
      const runDir = await tempDir(compute);
      const messages: string[] = [];
      const r = await runTraining({
        config: tinyConfig({
          'training.steps': steps,
          'training.checkpointInterval': steps,
          'training.evalInterval': steps,
          precision: {
            compute,
            overrides: [{ modules: 'lm_head', compute: 'f32' }],
            ...(compute === 'f16'
              ? { lossScaling: { initScale: 2 ** 19, growthInterval: 3, hysteresis: 1 } }
              : {}),
          },
        }),
        runDir,
        device,
        handleSignals: false,
        skipExport: true,
        log: { info: (m) => messages.push(m), warn: (m) => messages.push(m) },
      });
      expect(r.status).toBe('finished');
      expect(messages.find((m) => m.startsWith('model:'))).toMatch(
        new RegExp(`precision compute ${compute}, params ${compute}`),
      );
      const train = await trainRecords(runDir);
      expect(train).toHaveLength(steps);
      expect(meanLoss(train.slice(-2))).toBeLessThan(meanLoss(train.slice(0, 2)) - 0.15);
      for (const t of train) {
        expect(Number.isFinite(t.loss)).toBe(true);
        expect(typeof t.stepSkipped).toBe('boolean');
        expect(t.skippedSteps).toBe(train.filter((u) => u.step <= t.step && u.stepSkipped).length);
      }
      if (compute === 'bf16') {
        // No loss scaling without f16: the scale stays 1 and nothing is skipped.
        expect(new Set(train.map((t) => t.lossScale))).toEqual(new Set([1]));
        expect(train.at(-1)!.skippedSteps).toBe(0);
      } else {
        // Replay the dynamic-scaling rule (hysteresis 1) from the logged overflows: halve on an
        // overflow, double after 3 clean steps in a row.
        let scale = 2 ** 19;
        let clean = 0;
        for (const t of train) {
          expect(t.lossScale).toBe(scale);
          if (t.stepSkipped) {
            scale /= 2;
            clean = 0;
          } else if (++clean === 3) {
            scale *= 2;
            clean = 0;
          }
        }
        // The start is too high for f16 gradients: some steps overflow and are skipped, and
        // some do not (the scale comes down, then grows again).
        const skipped = train.filter((t) => t.stepSkipped).length;
        expect(skipped).toBeGreaterThan(0);
        expect(skipped).toBeLessThan(steps / 2);
        expect(train.at(-1)!.skippedSteps).toBe(skipped);
        for (const t of train.filter((u) => u.stepSkipped)) expect(t.gradNorm).toBeNull();
      }
      const c = await readCheckpoint(
        join(runDir, 'checkpoints', `step-${String(steps).padStart(6, '0')}`),
      );
      // Model weights are stored in the 16-bit dtype; f32 masters alongside.
      expect(c.model.tensors.get('model.layers.0.mlp.up_proj.weight')!.dtype).toBe(
        compute === 'bf16' ? 'BF16' : 'F16',
      );
      expect(c.precision!.tensors.get('model.layers.0.mlp.up_proj.weight')!.dtype).toBe('F32');
      expect(c.state.precision!.scaler === null).toBe(compute === 'bf16');
      // Nothing leaks from step to step.
      expect(new Set(train.slice(1).map((t) => t.memory.liveTensors)).size).toBe(1);
    });
  }

  const MOE = {
    layers: [1],
    numExperts: 4,
    topK: 2,
    expertIntermediateSize: 32,
    scoring: 'sigmoid',
    balance: { switch: 0.01 },
    biasUpdateRate: 0.001,
  };

  it('trains an MoE model: loss goes down, routing statistics logged, DeepSeek names saved and exported', async () => {
    const runDir = await tempDir('moe');
    const messages: string[] = [];
    const r = await runTraining({
      config: tinyConfig({
        'training.steps': STEPS,
        'training.checkpointInterval': STEPS,
        'training.evalInterval': STEPS,
        'training.logInterval': 2,
        'sample.maxNewTokens': 3,
        moe: MOE,
      }),
      runDir,
      device,
      handleSignals: false,
      log: { info: (m) => messages.push(m), warn: (m) => messages.push(m) },
    });
    expect(r.status).toBe('finished');
    // Oracle: a dense layer-1 MLP (3·32·64) is replaced by a gate (4·32), a routing bias (4) and
    // four experts (3·32·32 each); a token uses two of the four.
    const dense = new (await import('@fathom/nn-layers')).CausalLm(
      { ...r.config.model, vocabSize: 512, maxPositionEmbeddings: 16, seed: 7 } as never,
      { device },
    );
    const denseCount = dense.numParameters();
    dense.dispose();
    const expert = 3 * 32 * 32;
    expect(r.numParameters).toBe(denseCount - 3 * 32 * 64 + 4 * 32 + 4 + 4 * expert);
    expect(r.activatedParameters).toBe(r.numParameters - 2 * expert);
    expect(messages.find((m) => m.startsWith('model:'))).toContain(
      `${r.activatedParameters.toLocaleString('en-US')} activated per token`,
    );
    const train = await trainRecords(runDir);
    expect(meanLoss(train.slice(-2))).toBeLessThan(meanLoss(train.slice(0, 2)) - 0.2);
    for (const t of train) {
      expect(t.auxLoss).toBeGreaterThan(0);
      if (t.step % 2 !== 0) {
        expect(t.moe).toBeUndefined();
        continue;
      }
      expect(t.moe).toHaveLength(1);
      const s = t.moe![0]!;
      expect(s.name).toBe('model.layers.1.mlp');
      // Two steps of 4×16 tokens, each sent to 2 experts.
      const tokens = 2 * 4 * 16;
      expect(s.tokensPerExpert.reduce((a, b) => a + b, 0)).toBe(2 * tokens);
      s.activationFrequency.forEach((f, j) =>
        expect(f).toBeCloseTo(s.tokensPerExpert[j]! / tokens, 6),
      );
      const mean = (2 * tokens) / 4;
      const std = Math.sqrt(s.tokensPerExpert.reduce((a, c) => a + (c - mean) ** 2, 0) / 4);
      expect(s.loadCv).toBeCloseTo(std / mean, 5);
      expect(s.normalizedLoadStd).toBeCloseTo(std / (2 * tokens), 5);
      expect(s.droppedFraction).toBe(0);
    }
    expect(new Set(train.slice(1).map((t) => t.memory.liveTensors)).size).toBe(1);
    const c = await readCheckpoint(join(runDir, 'checkpoints', 'step-000008'));
    const names = [...c.model.tensors.keys()];
    for (let j = 0; j < 4; j++)
      for (const proj of ['gate_proj', 'up_proj', 'down_proj'])
        expect(names).toContain(`model.layers.1.mlp.experts.${j}.${proj}.weight`);
    expect(names).toContain('model.layers.1.mlp.gate.weight');
    expect(names).toContain('model.layers.1.mlp.gate.e_score_correction_bias');
    expect(names).toContain('model.layers.0.mlp.up_proj.weight');
    expect(names.some((n) => n.startsWith('model.layers.1.mlp.up_proj'))).toBe(false);
    // The routing bias is not trained by the optimizer, but balancing moved it.
    const bias = c.model.tensors.get('model.layers.1.mlp.gate.e_score_correction_bias')!;
    expect(Array.from(new Float32Array(bias.data.slice().buffer)).some((v) => v !== 0)).toBe(true);
    const hf = JSON.parse(await readFile(join(runDir, 'final', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(hf).toMatchObject({
      n_routed_experts: 4,
      num_experts_per_tok: 2,
      moe_intermediate_size: 32,
      scoring_func: 'sigmoid',
      topk_method: 'noaux_tc',
      moe_layers: [1],
      first_k_dense_replace: 1,
      moe_layer_freq: 1,
    });
    expect(r.sample).toMatch(/^The/);
  });

  async function checkExactResume(config: TrainConfig, files: string[]): Promise<void> {
    const common = { device, handleSignals: false, log: silentLog, skipExport: true };
    const straight = await tempDir('straight');
    await runTraining({ ...common, config, runDir: straight });
    const halves = await tempDir('halves');
    const first = await runTraining({ ...common, config, runDir: halves, stopAfterStep: 3 });
    expect(first).toMatchObject({ status: 'interrupted', step: 3 });
    const second = await runTraining({ ...common, runDir: halves, resume: true });
    expect(second).toMatchObject({ status: 'finished', step: 6 });
    for (const file of files) {
      const read = (dir: string) => readFile(join(dir, 'checkpoints', 'step-000006', file));
      expect((await read(halves)).equals(await read(straight)), file).toBe(true);
    }
    const losses = async (dir: string) => (await trainRecords(dir)).map((t) => t.loss);
    expect(await losses(halves)).toEqual(await losses(straight));
  }

  const resumeBase = {
    'training.steps': 6,
    'training.checkpointInterval': 3,
    'training.evalInterval': 6,
    'schedule.warmupSteps': 1,
    'model.hiddenDropout': 0.1,
  };

  it('resumes an MoE run exactly (weights, routing bias, optimizer state)', async () => {
    await checkExactResume(tinyConfig({ ...resumeBase, moe: MOE }), [
      'model.safetensors',
      'optimizer.safetensors',
    ]);
  });

  it('resumes a bf16 run with stochastic rounding exactly (weights, f32 masters, optimizer)', async () => {
    await checkExactResume(
      tinyConfig({
        ...resumeBase,
        precision: { compute: 'bf16', rounding: 'stochastic', seed: 3 },
      }),
      ['model.safetensors', 'optimizer.safetensors', 'precision.safetensors'],
    );
  });

  it('trains with f16 loss scaling on the WebAssembly backend too, without leaks', async () => {
    const wasm = await Device.open({ backend: 'wasm' });
    try {
      const runDir = await tempDir('wasm-f16');
      await runTraining({
        config: tinyConfig({ backend: 'wasm', precision: { compute: 'f16' } }),
        runDir,
        device: wasm,
        handleSignals: false,
        skipExport: true,
        log: silentLog,
      });
      const train = await trainRecords(runDir);
      expect(train.every((t) => typeof t.lossScale === 'number')).toBe(true);
      expect(train.at(-1)!.loss).toBeLessThan(train[0]!.loss);
      expect(wasm.memory().liveTensors).toBe(0);
    } finally {
      wasm.close();
    }
  });
});
