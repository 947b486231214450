import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { applyOverrides } from '../config/load.js';
import { APP_DIR, spawnCli } from '../test-support/cli-process.js';
import { TINY_CONFIG, tempDir } from '../test-support/fixtures.js';
import { startDashboard } from './server.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('dashboard server', () => {
  it('serves complete metrics lines from an offset, the page and uPlot from node_modules', async () => {
    const runDir = await tempDir('dash-api');
    const dashboard = await startDashboard({ runDir, port: 0 });
    try {
      const get = (path: string) => fetch(new URL(path, dashboard.url));
      const empty = (await (await get('/api/metrics?offset=0')).json()) as {
        offset: number;
        records: unknown[];
      };
      expect(empty).toMatchObject({ offset: 0, records: [] });
      const a = JSON.stringify({ type: 'train', step: 1, loss: 5 });
      const b = JSON.stringify({ type: 'train', step: 2, loss: 4 });
      await writeFile(join(runDir, 'metrics.jsonl'), `${a}\n${b.slice(0, 10)}`);
      const first = (await (await get('/api/metrics?offset=0')).json()) as {
        offset: number;
        records: { step: number }[];
      };
      // Only the complete line comes back; the torn one waits for its newline.
      expect(first.records.map((r) => r.step)).toEqual([1]);
      expect(first.offset).toBe(a.length + 1);
      await appendFile(join(runDir, 'metrics.jsonl'), `${b.slice(10)}\n`);
      const second = (await (await get(`/api/metrics?offset=${first.offset}`)).json()) as {
        records: { step: number }[];
      };
      expect(second.records.map((r) => r.step)).toEqual([2]);
      // A log rewritten shorter (resume) makes the page start over.
      const reset = (await (await get('/api/metrics?offset=999999')).json()) as {
        reset: boolean;
        records: unknown[];
      };
      expect(reset.reset).toBe(true);
      expect(reset.records).toHaveLength(2);
      expect((await get('/api/metrics?offset=-1')).status).toBe(400);
      const page = await get('/');
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('/vendor/uPlot.iife.min.js');
      const lib = await get('/vendor/uPlot.iife.min.js');
      expect(lib.status).toBe(200);
      expect(await lib.text()).toMatch(/uPlot/);
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await dashboard.close();
    }
  });

  it('plots a live run in Chromium: charts get points and keep updating', async () => {
    const dir = await tempDir('dash');
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      stringify(
        applyOverrides(TINY_CONFIG, [
          { path: 'training.steps', value: 60 },
          { path: 'training.evalInterval', value: 10 },
          { path: 'training.checkpointInterval', value: 100 },
        ]),
      ),
    );
    const runDir = join(dir, 'run');
    const cli = spawnCli(['train', '--config', config, '--run-dir', runDir]);
    const dashboard = await startDashboard({ runDir, port: 0 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      headless: true,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(`${dashboard.url}?interval=250`);
      // The page's own counters (window.fathomDashboard), read as browser-side expressions.
      type Info = {
        points: { loss: number; val: number; lr: number; tps: number; grad: number };
        heatmapColumns: number;
        records: number;
      };
      const info = () => page.evaluate('window.fathomDashboard') as Promise<Info>;
      const until = (expression: string) =>
        page.waitForFunction(expression, undefined, { timeout: 180_000, polling: 200 });
      await until('window.fathomDashboard.points.loss >= 2');
      const before = await info();
      // The page keeps polling: more training steps appear while the run goes on.
      await until(`window.fathomDashboard.points.loss > ${before.points.loss + 2}`);
      await until('window.fathomDashboard.points.val >= 1');
      const after = await info();
      expect(after.points.loss).toBeGreaterThan(before.points.loss);
      expect(after.points.lr).toBe(after.points.loss);
      expect(after.points.tps).toBe(after.points.loss);
      expect(after.points.grad).toBe(after.points.loss);
      expect(after.heatmapColumns).toBe(after.points.loss);
      // uPlot drew its canvases, and the heat map has coloured cells.
      expect(await page.locator('.uplot canvas').count()).toBeGreaterThanOrEqual(4);
      const painted = (await page.evaluate(`(() => {
        const c = document.getElementById('heatmap');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n / (c.width * c.height);
      })()`)) as number;
      expect(painted).toBeGreaterThan(0.1);
      expect(await page.locator('#status').textContent()).toMatch(/^step \d+ · loss \d/);
      const out = join(APP_DIR, 'test-results');
      await mkdir(out, { recursive: true });
      await page.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
      await dashboard.close();
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
