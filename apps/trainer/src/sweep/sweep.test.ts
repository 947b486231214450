import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Device } from '@fathom/tensor-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/errors.js';
import { silentLog } from '../io.js';
import { tempDir, tinyConfig } from '../test-support/fixtures.js';
import { combinations, expandSweep } from './grid.js';
import { runSweep } from './sweep.js';
import type { SweepRow } from './table.js';

describe('sweep', () => {
  it('enumerates a grid with the first field varying slowest', () => {
    expect(combinations({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      [
        ['a', 1],
        ['b', 'x'],
      ],
      [
        ['a', 1],
        ['b', 'y'],
      ],
      [
        ['a', 1],
        ['b', 'z'],
      ],
      [
        ['a', 2],
        ['b', 'x'],
      ],
      [
        ['a', 2],
        ['b', 'y'],
      ],
      [
        ['a', 2],
        ['b', 'z'],
      ],
    ]);
  });

  it('validates every combination before running any', () => {
    const config = tinyConfig({
      sweep: { grid: { 'model.hiddenSize': [32, 30], 'optimizer.lr': [0.01] } },
    });
    expect(() => expandSweep(config, 'grid.yaml')).toThrow(ConfigError);
    expect(() => expandSweep(config, 'grid.yaml')).toThrow(
      /grid\.yaml \(sweep: model\.hiddenSize=30, optimizer\.lr=0\.01\)[\s\S]*model\.numHeads: gives head size 15/,
    );
    const unknown = tinyConfig({ sweep: { grid: { 'model.hiddenSzie': [32] } } });
    expect(() => expandSweep(unknown, 'grid.yaml')).toThrow(/model\.hiddenSzie: unknown field/);
    expect(() => expandSweep(tinyConfig(), 'grid.yaml')).toThrow(/sweep: is missing/);
  });

  it('runs a 2×2 grid one run after another and saves a four-row table', async () => {
    const outDir = await tempDir('sweep');
    const config = tinyConfig({
      'training.steps': 3,
      'training.evalInterval': 100,
      'training.checkpointInterval': 100,
      sweep: { grid: { 'optimizer.lr': [0.01, 0.003], 'model.hiddenSize': [16, 32] } },
    });
    const device = await Device.open({ backend: 'webgpu' });
    let result;
    try {
      result = await runSweep({
        config,
        source: 'grid.yaml',
        outDir,
        log: silentLog,
        runOptions: { device, handleSignals: false, skipExport: true },
      });
    } finally {
      device.close();
    }
    expect(result.rows).toHaveLength(4);
    expect(result.rows.map((r) => r.values)).toEqual([
      { 'optimizer.lr': 0.01, 'model.hiddenSize': 16 },
      { 'optimizer.lr': 0.01, 'model.hiddenSize': 32 },
      { 'optimizer.lr': 0.003, 'model.hiddenSize': 16 },
      { 'optimizer.lr': 0.003, 'model.hiddenSize': 32 },
    ]);
    for (const r of result.rows) {
      expect(r.status).toBe('finished');
      expect(r.steps).toBe(3);
      expect(Number.isFinite(r.valLoss)).toBe(true);
    }
    // Wider models have more parameters: the runs really used their own configs.
    expect(result.rows[1]!.parameters).toBeGreaterThan(result.rows[0]!.parameters);
    const lines = result.table.split('\n');
    expect(lines).toHaveLength(2 + 4);
    expect(lines[0]).toMatch(/^\| # +\| optimizer\.lr +\| model\.hiddenSize +\| status/);
    expect(lines[2]).toMatch(/^\| 0 +\| 0\.01 +\| 16 +\| finished/);
    const md = await readFile(result.markdownPath, 'utf8');
    expect(md).toContain(result.table);
    const json = JSON.parse(await readFile(result.jsonPath, 'utf8')) as {
      fields: string[];
      rows: SweepRow[];
    };
    expect(json.fields).toEqual(['optimizer.lr', 'model.hiddenSize']);
    expect(json.rows).toHaveLength(4);
    const saved = JSON.parse(await readFile(join(outDir, 'run-03', 'config.json'), 'utf8')) as {
      optimizer: { lr: number };
      model: { hiddenSize: number };
      sweep?: unknown;
    };
    expect([saved.optimizer.lr, saved.model.hiddenSize, saved.sweep]).toEqual([
      0.003,
      32,
      undefined,
    ]);
  });
});
