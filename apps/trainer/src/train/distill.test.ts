import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CausalLm, saveSafetensors, toHfConfig } from '@fathom/nn-layers';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { silentLog } from '../io.js';
import { parseMetrics } from '../metrics/metrics-log.js';
import type { TrainRecord } from '../metrics/records.js';
import { tempDir, tinyConfig } from '../test-support/fixtures.js';
import { TokenWindowLoader } from '@fathom/data-pipeline';
import { prepareData } from '../prepare/prepare.js';
import { resolveRunConfig } from '../config/resolve.js';
import { buildTraining, disposeTraining } from './build.js';
import { loadDistillation } from './distill.js';
import { trainStep } from './step.js';
import { runTraining } from './trainer.js';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

const STAGES = [
  { kind: 'features', steps: 2 },
  { kind: 'attention', steps: 2 },
  { kind: 'logits', steps: 2, temperature: 2, weights: { hard: 0.5 } },
];

/** A student half the teacher's width and depth, distilled over the three stages. */
function studentConfig(teacher: string, overrides: Record<string, unknown> = {}) {
  return tinyConfig({
    name: 'student',
    'model.hiddenSize': 16,
    'model.intermediateSize': 32,
    'model.numLayers': 1,
    'training.steps': 6,
    'training.evalInterval': 3,
    'training.checkpointInterval': 3,
    'sample.maxNewTokens': 0,
    distill: { teacher, layerMap: { kind: 'last-k' }, stages: STAGES },
    ...overrides,
  });
}

describe('distilling a tiny teacher into a smaller student on WebGPU', () => {
  let device: Device;
  let teacherDir: string;
  let teacherHash: string;

  beforeAll(async () => {
    device = await Device.open({ backend: 'webgpu' });
    const teacherRun = await runTraining({
      config: tinyConfig({ name: 'teacher', 'training.steps': 4, 'sample.maxNewTokens': 0 }),
      runDir: await tempDir('distill-teacher'),
      device,
      handleSignals: false,
      log: silentLog,
    });
    teacherDir = teacherRun.finalDir!;
    teacherHash = await sha256(join(teacherDir, 'model.safetensors'));
  });
  afterAll(() => device?.close());

  it('logs every stage with its terms, leaves the teacher unchanged, leaks nothing and resumes exactly', async () => {
    const messages: string[] = [];
    const runDir = await tempDir('distill');
    const result = await runTraining({
      config: studentConfig(teacherDir),
      runDir,
      device,
      handleSignals: false,
      log: { info: (m) => messages.push(m), warn: (m) => messages.push(m) },
    });
    expect(result.status).toBe('finished');
    expect(messages.join('\n')).toMatch(/distilling from .* bytes resident, frozen\), layers 1→2/);
    const train = parseMetrics(await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).filter(
      (r): r is TrainRecord => r.type === 'train',
    );
    expect(train.map((r) => r.distill?.stage)).toEqual([
      'features',
      'features',
      'attention',
      'attention',
      'logits',
      'logits',
    ]);
    const termNames = train.map((r) => Object.keys(r.distill!.terms).sort().join(','));
    expect(termNames).toEqual([
      'hidden',
      'hidden',
      'attention',
      'attention',
      'hard,logits',
      'hard,logits',
    ]);
    for (const r of train) {
      const t = r.distill!.terms;
      for (const v of Object.values(t)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      // The logged loss is the weighted sum of the logged terms.
      const weighted =
        r.distill!.stage === 'logits' ? t.logits! + 0.5 * t.hard! : (t.hidden ?? t.attention)!;
      expect(r.loss).toBeCloseTo(weighted, 4);
    }
    // Features are learned within their stage.
    expect(train[1]!.distill!.terms.hidden!).toBeLessThan(train[0]!.distill!.terms.hidden!);
    // Constant within each stage after its first step. The only growth: the final norm's two
    // AdamW moments, created when the logits stage first gives it a gradient (the feature and
    // attention terms read block outputs, before the final norm).
    const live = train.map((r) => r.memory.liveTensors);
    expect(live.slice(1, 4), `liveTensors per step: ${live.join(', ')}`).toEqual([
      live[0],
      live[0],
      live[0],
    ]);
    expect(live.slice(4), `liveTensors per step: ${live.join(', ')}`).toEqual([
      live[0]! + 2,
      live[0]! + 2,
    ]);
    expect(await sha256(join(teacherDir, 'model.safetensors'))).toBe(teacherHash);
    // The checkpoint holds the projections; the export holds only the student.
    const checkpoint = await readCheckpoint(join(runDir, 'checkpoints', 'step-000006'));
    expect([...checkpoint.distill!.tensors.keys()]).toEqual(['layer_1.weight']);
    const exported = await readFile(join(result.finalDir!, 'model.safetensors'));
    expect(exported.toString('latin1')).not.toContain('distill');
    expect(exported.toString('latin1')).not.toContain('layer_1');

    // Interrupted after the first stage's step 3 and resumed: the same final student.
    const resumedDir = await tempDir('distill-resume');
    const first = await runTraining({
      config: studentConfig(teacherDir),
      runDir: resumedDir,
      device,
      handleSignals: false,
      stopAfterStep: 3,
      log: silentLog,
    });
    expect(first.status).toBe('interrupted');
    const before = device.memory().liveTensors;
    const resumed = await runTraining({
      runDir: resumedDir,
      resume: true,
      device,
      handleSignals: false,
      log: silentLog,
    });
    expect(resumed.status).toBe('finished');
    expect(device.memory().liveTensors).toBe(before);
    expect(await sha256(join(resumed.finalDir!, 'model.safetensors'))).toBe(
      await sha256(join(result.finalDir!, 'model.safetensors')),
    );
  }, 120_000);

  it('trains the student and the projections, never the teacher, and frees everything', async () => {
    const before = device.memory();
    const dataset = await prepareData(studentConfig(teacherDir).data, { log: silentLog });
    const config = resolveRunConfig(studentConfig(teacherDir), dataset.info.vocabSize);
    const distill = await loadDistillation(config, device);
    expect(distill!.teacher.residentBytes).toBeGreaterThanOrEqual(distill!.teacher.parameterBytes);
    const parts = buildTraining(config, device, distill);
    const loader = await TokenWindowLoader.open(dataset.trainShards, {
      contextLength: config.data.contextLength,
      batchSize: config.data.batchSize,
      seed: config.seed,
    });
    try {
      const names = parts.precision.masters.named().map(([n]) => n);
      expect(names).toContain('distill.layer_1.weight');
      expect(names.filter((n) => n.startsWith('model.'))).toHaveLength(
        parts.model.namedParameters().filter(([n]) => n.startsWith('model.')).length,
      );
      const teacherBefore = await Promise.all(
        distill!.teacher.model.parameters().map((p) => p.toArray()),
      );
      const projection = distill!.projections.forLayer(1)!;
      const projectionBefore = await projection.parameters()[0]!.toArray();
      for (let step = 0; step < 6; step++) {
        const r = await trainStep(parts, loader, device, config.training.clipGradNorm, step);
        expect(r.distill!.stage).toBe(config.distill!.stages[Math.floor(step / 2)]!.kind);
      }
      for (const p of distill!.teacher.model.parameters()) {
        expect(p.requiresGrad).toBe(false);
        expect(p.grad ?? null).toBeNull();
      }
      expect(distill!.teacher.model.training).toBe(false);
      const teacherAfter = await Promise.all(
        distill!.teacher.model.parameters().map((p) => p.toArray()),
      );
      expect(teacherAfter).toEqual(teacherBefore);
      // The features stage trained the projection.
      expect(await projection.parameters()[0]!.toArray()).not.toEqual(projectionBefore);
    } finally {
      await loader.close();
      disposeTraining(parts);
    }
    expect(device.memory().liveTensors).toBe(before.liveTensors);
    expect(device.memory().liveBytes).toBe(before.liveBytes);
  });

  it('names an unknown teacher folder at the start, without leaking', async () => {
    const before = device.memory().liveTensors;
    await expect(
      runTraining({
        config: studentConfig('/nonexistent/teacher'),
        runDir: await tempDir('distill-missing'),
        device,
        handleSignals: false,
        log: silentLog,
      }),
    ).rejects.toThrow(
      /distill\.teacher: loadTeacher: cannot read \/nonexistent\/teacher\/config\.json/,
    );
    expect(device.memory().liveTensors).toBe(before);
  });

  it('rejects a teacher with another vocabulary, without leaking', async () => {
    const dir = join(await tempDir('distill-vocab'), 'teacher');
    await mkdir(dir, { recursive: true });
    const other = new CausalLm(
      {
        vocabSize: 300,
        hiddenSize: 16,
        intermediateSize: 32,
        numLayers: 1,
        numHeads: 2,
        maxPositionEmbeddings: 16,
      },
      { device },
    );
    await saveSafetensors(join(dir, 'model.safetensors'), other.stateDict());
    await writeFile(join(dir, 'config.json'), JSON.stringify(toHfConfig(other.config)));
    other.dispose();
    const before = device.memory().liveTensors;
    await expect(
      runTraining({
        config: studentConfig(dir),
        runDir: await tempDir('distill-vocab-run'),
        device,
        handleSignals: false,
        log: silentLog,
      }),
    ).rejects.toThrow(/distill\.teacher: .* has vocabSize 300; expected the student's 512/);
    expect(device.memory().liveTensors).toBe(before);
  });
});
