import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, tinyConfig } from '../test-support/fixtures.js';
import { silentLog } from '../io.js';
import type { TrainConfig } from '../config/schema.js';
import { runTraining } from './trainer.js';

const STEPS = 10;

/** Gradient accumulation, dropout everywhere, LayerDrop and a warm-up + cosine schedule. */
const config: TrainConfig = tinyConfig({
  'training.steps': STEPS,
  'training.checkpointInterval': 3,
  'training.keepCheckpoints': 5,
  'data.accumulation': 2,
  'model.hiddenDropout': 0.1,
  'model.attentionDropout': 0.1,
  'model.layerDrop': 0.25,
  'schedule.warmupSteps': 3,
});

async function finalBytes(runDir: string, file: string): Promise<Buffer> {
  return readFile(join(runDir, 'checkpoints', `step-0000${STEPS}`, file));
}

describe('exact resume', () => {
  let device: Device;
  let straight: string;

  beforeAll(async () => {
    device = await Device.open({ backend: 'webgpu' });
    straight = await tempDir('straight');
    const r = await runTraining({
      config,
      runDir: straight,
      device,
      handleSignals: false,
      log: silentLog,
      skipExport: true,
    });
    expect(r.status).toBe('finished');
  });
  afterAll(() => device?.close());

  it('N steps in one go equal N/2, stop, resume N/2: identical weights and optimizer state', async () => {
    const runDir = await tempDir('halves');
    const first = await runTraining({
      config,
      runDir,
      device,
      handleSignals: false,
      log: silentLog,
      skipExport: true,
      stopAfterStep: STEPS / 2,
    });
    expect(first).toMatchObject({ status: 'interrupted', step: STEPS / 2 });
    const second = await runTraining({
      runDir,
      resume: true,
      device,
      handleSignals: false,
      log: silentLog,
      skipExport: true,
    });
    expect(second).toMatchObject({ status: 'finished', step: STEPS });
    expect(
      (await finalBytes(runDir, 'model.safetensors')).equals(
        await finalBytes(straight, 'model.safetensors'),
      ),
    ).toBe(true);
    expect(
      (await finalBytes(runDir, 'optimizer.safetensors')).equals(
        await finalBytes(straight, 'optimizer.safetensors'),
      ),
    ).toBe(true);
    // The metrics log reads as one run: the same losses, step by step.
    const losses = async (dir: string) =>
      (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; step: number; loss?: number })
        .filter((r) => r.type === 'train')
        .map((r) => [r.step, r.loss]);
    expect(await losses(runDir)).toEqual(await losses(straight));
  });

  it('restoring the generators matters: a resume with other dropout streams diverges', async () => {
    // Oracle for the test above: tamper with the saved generator offsets (and the manifest
    // sums, so the checkpoint still verifies) and the result must differ.
    const runDir = await tempDir('tampered');
    await runTraining({
      config,
      runDir,
      device,
      handleSignals: false,
      log: silentLog,
      skipExport: true,
      stopAfterStep: 3,
    });
    const dir = join(runDir, 'checkpoints', 'step-000003');
    const statePath = join(dir, 'trainer-state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as {
      generators: Record<string, { offset: string }>;
    };
    for (const g of Object.values(state.generators)) g.offset = String(BigInt(g.offset) + 12345n);
    const text = JSON.stringify(state, null, 2);
    await writeFile(statePath, text);
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      files: { name: string; bytes: number; sha256: string }[];
    };
    const { createHash } = await import('node:crypto');
    const entry = manifest.files.find((f) => f.name === 'trainer-state.json')!;
    entry.bytes = Buffer.byteLength(text);
    entry.sha256 = createHash('sha256').update(text).digest('hex');
    await writeFile(manifestPath, JSON.stringify(manifest));
    await runTraining({
      runDir,
      resume: true,
      device,
      handleSignals: false,
      log: silentLog,
      skipExport: true,
    });
    expect(
      (await finalBytes(runDir, 'model.safetensors')).equals(
        await finalBytes(straight, 'model.safetensors'),
      ),
    ).toBe(false);
  });

  it.each([
    [
      'truncated',
      async (file: string) => truncate(file, 100),
      /has 100 bytes; the manifest records \d+ \(truncated\?\)/,
    ],
    [
      'corrupted',
      async (file: string) => {
        const bytes = await readFile(file);
        bytes[bytes.length - 5]! ^= 0xff;
        await writeFile(file, bytes);
      },
      /SHA-256 .* \(corrupted\)/,
    ],
  ] as const)(
    'a %s newest checkpoint is detected and the run falls back to the previous one',
    async (_kind, damage, reason) => {
      const runDir = await tempDir('damaged');
      await runTraining({
        config,
        runDir,
        device,
        handleSignals: false,
        log: silentLog,
        skipExport: true,
        stopAfterStep: 6,
      });
      await damage(join(runDir, 'checkpoints', 'step-000006', 'model.safetensors'));
      const warnings: string[] = [];
      const infos: string[] = [];
      const r = await runTraining({
        runDir,
        resume: true,
        device,
        handleSignals: false,
        skipExport: true,
        log: { info: (m) => infos.push(m), warn: (m) => warnings.push(m) },
      });
      expect(r.status).toBe('finished');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/checkpoint .*step-000006 is unusable: model\.safetensors /);
      expect(warnings[0]).toMatch(reason);
      expect(warnings[0]).toMatch(/falling back to step-000003$/);
      expect(infos.some((m) => /continuing from .*step-000003 \(step 3 of 10\)/.test(m))).toBe(
        true,
      );
      // Resuming from the older checkpoint is exact too.
      expect(
        (await finalBytes(runDir, 'model.safetensors')).equals(
          await finalBytes(straight, 'model.safetensors'),
        ),
      ).toBe(true);
    },
  );
});
