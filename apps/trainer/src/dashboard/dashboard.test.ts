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

  it('draws the expert-load heat map from MoE statistics, step by step', async () => {
    const runDir = await tempDir('dash-moe');
    // Two MoE layers of four experts over three log steps; the oracle is the values written.
    const freqs = [
      [
        [1, 0.5, 0.25, 0.25],
        [0.5, 0.5, 0.5, 0.5],
      ],
      [
        [0.5, 0.5, 0.5, 0.5],
        [1, 1, 0, 0],
      ],
      [
        [0, 0, 1, 1],
        [0.25, 0.25, 0.5, 1],
      ],
    ];
    const lines = freqs.map((layers, i) =>
      JSON.stringify({
        type: 'train',
        step: (i + 1) * 2,
        loss: 5,
        lr: 0.01,
        gradNorm: 1,
        layerGradNorms: [1, 1],
        lossScale: 1,
        stepSkipped: false,
        skippedSteps: 0,
        tokensPerSecond: 100,
        tokens: 64,
        elapsed: 1,
        memory: { liveBytes: 1, peakBytes: 1, poolBytes: 1, liveTensors: 1 },
        moe: layers.map((f, l) => ({
          name: `model.layers.${l}.mlp`,
          tokensPerExpert: f.map((v) => v * 64),
          activationFrequency: f,
          loadCv: 0.5,
          normalizedLoadStd: 0.1,
          droppedFraction: 0,
        })),
        time: new Date().toISOString(),
      }),
    );
    await writeFile(join(runDir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    const dashboard = await startDashboard({ runDir, port: 0 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      headless: true,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(`${dashboard.url}?interval=200`);
      await page.waitForFunction('window.fathomDashboard.expert.steps === 3', undefined, {
        timeout: 30_000,
      });
      expect(await page.evaluate('window.fathomDashboard.expert')).toEqual({
        steps: 3,
        shown: 6,
        layers: 2,
        experts: 4,
      });
      expect(await page.locator('#expert-section').isVisible()).toBe(true);
      // Cell colours: the brightest cells are the step's largest frequency, the darkest zeros.
      const cell = (layer: number, expert: number) =>
        page.evaluate(`(() => {
          const c = document.getElementById('expert-heatmap');
          const w = (c.width - 150) / 4, h = c.height / 2;
          const x = Math.floor(150 + (${expert} + 0.1) * w), y = Math.floor((${layer} + 0.1) * h);
          return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3));
        })()`) as Promise<number[]>;
      expect(await cell(0, 0)).toEqual([30, 40, 120]);
      expect(await cell(0, 3)).toEqual([255, 230, 30]);
      expect(await cell(1, 3)).toEqual([255, 230, 30]);
      expect(await cell(1, 2)).toEqual([143, 135, 75]);
      // Moving the slider back shows an earlier log step.
      await page.locator('#expert-step').fill('0');
      expect(await page.evaluate('window.fathomDashboard.expert.shown')).toBe(2);
      expect(await cell(0, 0)).toEqual([255, 230, 30]);
      expect(await cell(0, 2)).toEqual([86, 88, 98]);
      expect(await page.locator('#expert-legend').textContent()).toMatch(
        /^step 2 \(1 of 3 log steps\); colour from 0 \(dark\) to 1\.000 \(bright\); a uniform load is 0\.500 per expert/,
      );
    } finally {
      await browser.close();
      await dashboard.close();
    }
  });
});
