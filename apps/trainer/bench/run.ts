/**
 * Training throughput of the default config's model (and a wider one) on this machine's
 * backend: median step time and tokens per second over a few steps, data from the prepared
 * Brown shards. Run with `pnpm bench` (prepares the data on first use).
 */
import { TokenWindowLoader } from '@fathom/data-pipeline';
import { Device } from '@fathom/tensor-core';
import { applyOverrides, loadConfig, validateConfig } from '../src/config/load.js';
import { resolveRunConfig } from '../src/config/resolve.js';
import { silentLog } from '../src/io.js';
import { prepareData } from '../src/prepare/prepare.js';
import { buildTraining, disposeTraining } from '../src/train/build.js';
import { trainStep } from '../src/train/step.js';

const base = await loadConfig(new URL('../configs/default.yaml', import.meta.url).pathname);
const device = await Device.open({ backend: base.backend });
const dataset = await prepareData(base.data, { log: silentLog });
const variants: [string, Record<string, unknown>][] = [
  ['default (h64, 2 layers, B16×T32)', {}],
  ['h128, 2 layers, B16×T32', { 'model.hiddenSize': 128, 'model.intermediateSize': 384 }],
  ['default, B4×T32', { 'data.batchSize': 4 }],
];
const rows: string[][] = [];
for (const [name, overrides] of variants) {
  const config = resolveRunConfig(
    validateConfig(
      applyOverrides(
        base,
        Object.entries(overrides).map(([path, value]) => ({ path, value })),
      ),
    ),
    dataset.info.vocabSize,
  );
  const parts = buildTraining(config, device);
  const loader = await TokenWindowLoader.open(dataset.trainShards, {
    contextLength: config.data.contextLength,
    batchSize: config.data.batchSize,
    seed: config.seed,
  });
  const times: number[] = [];
  let tokens = 0;
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const r = await trainStep(parts, loader, device, config.training.clipGradNorm);
    if (i >= 2) times.push(performance.now() - t0);
    tokens = r.tokens;
  }
  await loader.close();
  const params = parts.model.numParameters();
  disposeTraining(parts);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  rows.push([
    name,
    params.toLocaleString('en-US'),
    median.toFixed(0),
    ((tokens / median) * 1000).toFixed(0),
  ]);
}
device.close();
const header = ['model', 'parameters', 'median step (ms)', 'tokens/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`backend: ${device.name}`);
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
