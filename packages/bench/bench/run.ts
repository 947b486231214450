/**
 * A full training step (forward, backward, AdamW) of the same small GPT-style
 * model in Fathom and in TensorFlow.js's WebGPU backend, in one process on one
 * Dawn instance: vocab 256, context 128, d_model 128, 4 heads, 4 layers, MLP 4×,
 * batch 8. Fathom uses `CausalLm` with `mlp: 'gelu', norm: 'layer'` (rotary
 * positions, untied head) and `AdamW`; TF.js the same model written with its ops
 * (src/tfjs-gpt.ts). Prints tokens/s (median over steps after warm-up), checks
 * that Fathom's steady-state steps create no GPU buffers and leak nothing, and
 * writes bench/results/train-step.json.
 */
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CausalLm } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import { Device, type WebGpuBackend, fromArray, scope } from '@fathom/tensor-core';
import { TfGpt, type GptSizes } from '../src/tfjs-gpt.js';
import { startTfWebGpu } from '../src/tfjs-setup.js';

const SIZES: GptSizes = {
  vocab: 256,
  context: 128,
  dModel: 128,
  heads: 4,
  layers: 4,
  mlp: 512,
  batch: 8,
};
const WARMUP = 2;
const STEPS = Number(process.env.FATHOM_BENCH_STEPS ?? 5);
const tokens = SIZES.batch * SIZES.context;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Deterministic token batches (a fixed LCG), the same in both frameworks. */
function batchValues(step: number): { ids: Int32Array; targets: Int32Array } {
  let s = (step + 1) * 2654435761;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % SIZES.vocab;
  const seq = Int32Array.from({ length: tokens + 1 }, next);
  return { ids: seq.slice(0, tokens), targets: seq.slice(1, tokens + 1) };
}

const device = await Device.open({ backend: 'webgpu' });
const backend = device.backend as WebGpuBackend;

// --- Fathom ---------------------------------------------------------------------------------
const model = new CausalLm(
  {
    vocabSize: SIZES.vocab,
    hiddenSize: SIZES.dModel,
    intermediateSize: SIZES.mlp,
    numLayers: SIZES.layers,
    numHeads: SIZES.heads,
    maxPositionEmbeddings: SIZES.context,
    mlp: 'gelu',
    norm: 'layer',
    tieWordEmbeddings: false,
    seed: 1,
  },
  { device },
);
const opt = new AdamW(model.namedParameters(), { lr: 3e-4, weightDecay: 0.1 });
const fathomTimes: number[] = [];
let fathomLoss = 0;
let steady = { buffers: 0, liveBytes: 0, liveTensors: 0, submits: 0 };
for (let i = 0; i < WARMUP + STEPS; i++) {
  const t0 = performance.now();
  const submitsBefore = backend.submits;
  fathomLoss = await scope(async () => {
    const { ids, targets } = batchValues(i);
    const idT = fromArray(ids, [SIZES.batch, SIZES.context], { device, dtype: 'i32' });
    const tgT = fromArray(targets, [SIZES.batch, SIZES.context], { device, dtype: 'i32' });
    const loss = model.loss(idT, tgT);
    loss.backward();
    await opt.step();
    opt.zeroGrad();
    return loss.item();
  });
  const dt = performance.now() - t0;
  const mem = device.memory();
  if (i === WARMUP) {
    steady = {
      buffers: backend.buffersCreated,
      liveBytes: mem.liveBytes,
      liveTensors: mem.liveTensors,
      submits: backend.submits - submitsBefore,
    };
  }
  if (i >= WARMUP) fathomTimes.push(dt);
}
const after = device.memory();
const steadyCheck = {
  newBuffersAfterWarmup: backend.buffersCreated - steady.buffers,
  liveBytesChange: after.liveBytes - steady.liveBytes,
  liveTensorsChange: after.liveTensors - steady.liveTensors,
  submitsPerStep: steady.submits,
};

// --- TF.js ----------------------------------------------------------------------------------
const tf = await startTfWebGpu(backend.context.gpu);
const tfModel = new TfGpt(tf, SIZES);
const tfTimes: number[] = [];
let tfLoss = 0;
for (let i = 0; i < WARMUP + STEPS; i++) {
  const { ids, targets } = batchValues(i);
  const t0 = performance.now();
  const idT = tf.tensor2d(ids, [SIZES.batch, SIZES.context], 'int32');
  const tgT = tf.tensor2d(targets, [SIZES.batch, SIZES.context], 'int32');
  tfLoss = await tfModel.step(idT, tgT);
  tf.dispose([idT, tgT]);
  const dt = performance.now() - t0;
  if (i >= WARMUP) tfTimes.push(dt);
}

const fathomMs = median(fathomTimes);
const tfMs = median(tfTimes);
const rows = [
  {
    framework: 'Fathom (CausalLm gelu/layer + AdamW)',
    'ms/step': fathomMs.toFixed(0),
    'tokens/s': ((tokens * 1000) / fathomMs).toFixed(0),
    'last loss': fathomLoss.toFixed(4),
  },
  {
    framework: 'TF.js 4.22 WebGPU (same model, Adam + decoupled decay)',
    'ms/step': tfMs.toFixed(0),
    'tokens/s': ((tokens * 1000) / tfMs).toFixed(0),
    'last loss': tfLoss.toFixed(4),
  },
];
console.log(
  `\ntraining step, ${JSON.stringify(SIZES)}, ${STEPS} timed steps after ${WARMUP} warm-up`,
);
console.table(rows);
console.log(`Fathom/TF.js tokens/s: ${(tfMs / fathomMs).toFixed(2)}×`);
console.log(`Fathom steady state: ${JSON.stringify(steadyCheck)}`);

const results = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  adapter: backend.context.summary.description,
  sizes: SIZES,
  steps: STEPS,
  fathom: {
    msPerStep: fathomMs,
    tokensPerSecond: (tokens * 1000) / fathomMs,
    samples: fathomTimes,
  },
  tfjs: { msPerStep: tfMs, tokensPerSecond: (tokens * 1000) / tfMs, samples: tfTimes },
  ratio: tfMs / fathomMs,
  steadyState: steadyCheck,
};
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'train-step.json'), `${JSON.stringify(results, null, 2)}\n`);
device.close();
