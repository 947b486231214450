/**
 * Quantised matmul `y = x · Wᵀ` (weights packed, dequantised in the kernel) against
 * tensor-core's f32 matmul, and weight bytes per scheme. Prints a table of median
 * times, throughput and size. Run: `node --import tsx bench/run.ts [webgpu|cpu]`
 * (WebGPU by default; lavapipe when that is the adapter).
 */
import { Device, type Tensor, fromArray, matmul, noGrad } from '@fathom/tensor-core';
import { CausalLm } from '@fathom/nn-layers';
import {
  type QuantScheme,
  QuantWeight,
  dequantizeMatrix,
  quantMatmul,
  quantizeMatrix,
  quantizedBytes,
  quantizeModel,
  schemeLabel,
  resolveScheme,
} from '../src/index.js';

const backend = (process.argv[2] ?? 'webgpu') as 'webgpu' | 'cpu';
const WARMUP = 2;
const ITERS = 5;
const SIZES = [
  { m: 64, n: 512, k: 512 },
  { m: 256, n: 1024, k: 1024 },
];
const SCHEMES: QuantScheme[] = [
  { kind: 'int8', granularity: 'channel' },
  { kind: 'int4', groupSize: 128 },
  { kind: 'int4', groupSize: 32 },
  { kind: 'mixed', groupSize: 128 },
];

function gaussian(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  return Float32Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()) * 0.02,
  );
}

async function time(fn: () => Tensor): Promise<number> {
  const run = async (): Promise<void> => {
    const y = fn();
    await y.toArray();
    y.dispose();
  };
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(ITERS / 2)]!;
}

const device = await Device.open({ backend });
const rows: Record<string, string | number>[] = [];
for (const { m, n, k } of SIZES) {
  const wv = gaussian(1, n * k);
  const x = fromArray(gaussian(2, m * k), [m, k], { device });
  const w = fromArray(wv, [n, k], { device });
  const flops = 2 * m * n * k;
  const f32 = await time(() => noGrad(() => matmul(x, w, { transB: true })));
  rows.push({
    shape: `${m}×${k} · (${n}×${k})ᵀ`,
    weights: 'f32',
    'median ms': f32.toFixed(2),
    GFLOP_s: (flops / f32 / 1e6).toFixed(2),
    'weight KiB': ((n * k * 4) / 1024).toFixed(1),
    'vs f32 size': '1.00',
    'max |err| / max |w|': '0',
  });
  for (const scheme of SCHEMES) {
    const q = quantizeMatrix(wv, n, k, scheme);
    const deq = dequantizeMatrix(q);
    let maxErr = 0;
    let maxW = 0;
    for (let i = 0; i < wv.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(deq[i]! - wv[i]!));
      maxW = Math.max(maxW, Math.abs(wv[i]!));
    }
    const qw = QuantWeight.upload(q, device);
    const ms = await time(() => noGrad(() => quantMatmul(x, qw)));
    const bytes = quantizedBytes(q);
    rows.push({
      shape: `${m}×${k} · (${n}×${k})ᵀ`,
      weights: schemeLabel(resolveScheme(scheme)),
      'median ms': ms.toFixed(2),
      GFLOP_s: (flops / ms / 1e6).toFixed(2),
      'weight KiB': (bytes / 1024).toFixed(1),
      'vs f32 size': (bytes / (n * k * 4)).toFixed(3),
      'max |err| / max |w|': (maxErr / maxW).toFixed(4),
    });
    qw.dispose();
  }
  x.dispose();
  w.dispose();
}
console.log(`quantised matmul on ${backend} (${device.name})`);
console.table(rows);

// Whole-model size: every Linear but lm_head quantised (embeddings, norms and lm_head stay f32).
const CONFIG = {
  vocabSize: 4096,
  hiddenSize: 256,
  intermediateSize: 688,
  numLayers: 4,
  numHeads: 4,
  maxPositionEmbeddings: 128,
  seed: 1,
};
const sizes: Record<string, string>[] = [];
for (const scheme of SCHEMES) {
  const model = new CausalLm(CONFIG, { device });
  const r = await quantizeModel(model, { scheme });
  sizes.push({
    scheme: schemeLabel(resolveScheme(scheme)),
    layers: String(r.layers.length),
    'f32 MiB': (r.bytesBefore / 2 ** 20).toFixed(2),
    'quantised MiB': (r.bytesAfter / 2 ** 20).toFixed(2),
    ratio: (r.bytesAfter / r.bytesBefore).toFixed(3),
  });
  model.dispose();
}
console.log(`model size: CausalLm ${JSON.stringify(CONFIG)}`);
console.table(sizes);
device.close();
