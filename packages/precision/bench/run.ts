/**
 * Step time and device memory of one training step of a small LLaMA-style
 * model (nn-layers' CausalLm) in f32, bf16, f16 and a per-layer policy, with
 * AdamW through `createPrecision`. Peak bytes are the most live tensor bytes
 * during the timed steps; live bytes are what stays between steps (weights,
 * masters, optimizer state). Run: `node --import tsx bench/run.ts`.
 */
import { CausalLm, type CausalLmConfig } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import { Device, fromArray, scope } from '@fathom/tensor-core';
import { createPrecision, type PrecisionConfig } from '../src/index.js';

const CONFIG: CausalLmConfig = {
  vocabSize: 2048,
  hiddenSize: 128,
  intermediateSize: 352,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  maxPositionEmbeddings: 128,
  seed: 1,
};
const BATCH = 4;
const TIME = 64;
const WARMUP = 2;
const STEPS = 5;

const MODES: [string, PrecisionConfig][] = [
  ['f32', {}],
  ['bf16 (f32 masters)', { compute: 'bf16' }],
  ['bf16 stochastic rounding', { compute: 'bf16', rounding: 'stochastic' }],
  ['f16 (masters + loss scaling)', { compute: 'f16' }],
  ['bf16 compute, f32 params', { compute: 'bf16', params: 'f32' }],
  [
    'layers 0-1 f32, rest bf16',
    { compute: 'bf16', overrides: [{ layers: [0, 1], compute: 'f32', params: 'f32' }] },
  ],
];

const device = await Device.open({ backend: 'webgpu' });
const ids = new Int32Array(BATCH * TIME);
const targets = new Int32Array(BATCH * TIME);
for (let i = 0; i < ids.length; i++) {
  ids[i] = (i * 37 + 11) % CONFIG.vocabSize;
  targets[i] = (i * 37 + 48) % CONFIG.vocabSize;
}

const MiB = (b: number): string => (b / 2 ** 20).toFixed(2);
const rows: string[][] = [];
let f32Ms = 0;
let parameters = 0;
for (const [name, config] of MODES) {
  const model = new CausalLm(CONFIG, { device });
  parameters = model.numParameters();
  const precision = createPrecision(config, model, (p) => new AdamW(p, { lr: 1e-3 }));
  const step = () =>
    scope(async () => {
      const x = fromArray(ids, [BATCH, TIME], { device, dtype: 'i32' });
      const y = fromArray(targets, [BATCH, TIME], { device, dtype: 'i32' });
      precision.backward(model.loss(x, y));
      await precision.step();
      // Wait for the device so that the time covers the whole step.
      await model.parameters()[0]!.toArray();
    });
  for (let i = 0; i < WARMUP; i++) await step();
  device.resetPeak();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await step();
  const ms = (performance.now() - t0) / STEPS;
  if (name === 'f32') f32Ms = ms;
  const mem = device.memory();
  const weights = model.parameters().reduce((n, p) => n + p.storage.handle.byteLength, 0);
  rows.push([
    name,
    ms.toFixed(1),
    (ms / f32Ms).toFixed(2),
    MiB(weights),
    MiB(mem.liveBytes),
    MiB(mem.peakBytes),
    String(precision.metrics().skippedSteps),
  ]);
  precision.dispose();
  model.dispose();
}

const header = ['mode', 'step ms', 'vs f32', 'weights MiB', 'live MiB', 'peak MiB', 'skipped'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string =>
  r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`${device.backend.description}`);
console.log(
  `CausalLm ${CONFIG.numLayers}×${CONFIG.hiddenSize} (vocab ${CONFIG.vocabSize}, ${parameters} parameters), batch ${BATCH}×${TIME}, AdamW, mean of ${STEPS} steps after ${WARMUP}`,
);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
device.close();
