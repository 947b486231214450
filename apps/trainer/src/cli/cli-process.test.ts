import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readCheckpoint } from '../checkpoint/read.js';
import { CHECKPOINT_PAUSE_ENV } from '../checkpoint/test-hook.js';
import { applyOverrides } from '../config/load.js';
import { silentLog } from '../io.js';
import { spawnCli } from '../test-support/cli-process.js';
import { TINY_CONFIG, tempDir, tinyConfig } from '../test-support/fixtures.js';
import { runTraining } from '../train/trainer.js';

async function writeConfig(dir: string, overrides: Record<string, unknown>): Promise<string> {
  const raw = applyOverrides(
    TINY_CONFIG,
    Object.entries(overrides).map(([path, value]) => ({ path, value })),
  );
  const path = join(dir, 'config.yaml');
  await writeFile(path, stringify(raw));
  return path;
}

const KILL_RUN = {
  'training.steps': 6,
  'training.checkpointInterval': 2,
  'training.evalInterval': 100,
  'sample.maxNewTokens': 0,
};

describe('the CLI in a child process', () => {
  it('SIGKILL during a checkpoint write leaves the previous checkpoint usable, and resume continues exactly', async () => {
    const dir = await tempDir('kill');
    const config = await writeConfig(dir, KILL_RUN);
    const runDir = join(dir, 'run');
    // Test-only hook: pause after each checkpoint file so the kill lands mid-write.
    const cli = spawnCli(['train', '--config', config, '--run-dir', runDir], {
      [CHECKPOINT_PAUSE_ENV]: '400',
    });
    await cli.waitFor(/\[test-hook\] step-000004 wrote model\.safetensors/);
    cli.child.kill('SIGKILL');
    expect(await cli.exited).toBe('SIGKILL');

    const names = await readdir(join(runDir, 'checkpoints'));
    expect(names).toContain('step-000002');
    expect(names).not.toContain('step-000004');
    expect(names.some((n) => n.startsWith('.tmp-step-000004-'))).toBe(true);
    expect((await readCheckpoint(join(runDir, 'checkpoints', 'step-000002'))).step).toBe(2);

    const resume = spawnCli(['resume', runDir]);
    expect(await resume.exited).toBe(0);
    expect(resume.stderr()).toMatch(
      /removed leftovers of an interrupted write: \.tmp-step-000004-\d+/,
    );
    expect(resume.stdout()).toMatch(/continuing from .*step-000002 \(step 2 of 6\)/);
    expect(resume.stdout()).toMatch(/final model \(Hugging Face layout\)/);
    expect(await readdir(join(runDir, 'checkpoints'))).toEqual(['step-000004', 'step-000006']);

    // The killed-and-resumed run ends with the weights of an uninterrupted one (another process).
    const device = await Device.open({ backend: 'webgpu' });
    try {
      const straight = join(dir, 'straight');
      await runTraining({
        config: tinyConfig(KILL_RUN),
        runDir: straight,
        device,
        handleSignals: false,
        log: silentLog,
        skipExport: true,
      });
      const a = await readFile(join(straight, 'checkpoints', 'step-000006', 'model.safetensors'));
      const b = await readFile(join(runDir, 'checkpoints', 'step-000006', 'model.safetensors'));
      expect(a.equals(b)).toBe(true);
    } finally {
      device.close();
    }
  });

  it('SIGTERM saves a checkpoint and exits with 143', async () => {
    const dir = await tempDir('term');
    const config = await writeConfig(dir, {
      'training.steps': 40,
      'training.checkpointInterval': 100,
      'training.evalInterval': 100,
    });
    const runDir = join(dir, 'run');
    const cli = spawnCli(['train', '--config', config, '--run-dir', runDir]);
    await cli.waitFor(/step 3\/40/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(143);
    const m = /stopped at step (\d+) of 40 \(SIGTERM\); checkpoint saved/.exec(cli.stdout());
    expect(m, cli.stdout()).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThanOrEqual(3);
    expect(step).toBeLessThan(40);
    const c = await readCheckpoint(
      join(runDir, 'checkpoints', `step-${String(step).padStart(6, '0')}`),
    );
    expect(c.step).toBe(step);
    expect(c.state.loader.position).toBe(step * 4);
  });

  it('rejects an invalid config before any work, with the path and exit status 2', async () => {
    const dir = await tempDir('badcfg');
    const config = await writeConfig(dir, { 'model.numHeads': 3, 'data.shuffel': true });
    const cli = spawnCli(['train', '--config', config, '--run-dir', join(dir, 'run')]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/invalid config \(2 problems\)/);
    expect(cli.stderr()).toMatch(/- model\.numHeads: must divide hiddenSize 32; got 3/);
    expect(cli.stderr()).toMatch(/- data\.shuffel: unknown field/);
    await expect(readdir(join(dir, 'run'))).rejects.toThrow(/ENOENT/);
  });
});
