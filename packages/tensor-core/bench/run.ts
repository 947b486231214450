/**
 * Op-level benchmarks of tensor-core on WebGPU against TensorFlow.js's WebGPU
 * backend (4.22) on the same Dawn instance in this process, with numpy/OpenBLAS
 * as the CPU roof: f32 matmul, softmax and layer-norm at LLM shapes, and causal
 * attention forward+backward (fused vs unfused, time and peak device memory).
 * Prints tables and writes bench/results/ops.json. Bounded to a few minutes.
 * Run: `pnpm bench` (root, via turbo) or `node --import tsx bench/run.ts`.
 * `FATHOM_BENCH_QUICK=1` runs smaller sizes only.
 */
import { cpus } from 'node:os';
import {
  Device,
  type Tensor,
  type WebGpuBackend,
  Generator,
  causalAttention,
  layerNorm,
  matmul,
  randn,
  scope,
  softmax,
  sum,
} from '../src/index.js';
import { setMatmulFamily } from '../src/backends/webgpu/matmul-kernels.js';
import { tuneMatmul } from '../src/backends/webgpu/matmul-tune-run.js';
import { type Row, numpyRoof, printTable, saveResults, startTfWebGpu, timeIt } from './harness.js';
import { unfusedAttention } from './unfused-attention.js';

const quick = process.env.FATHOM_BENCH_QUICK === '1';
const device = await Device.open({ backend: 'webgpu' });
const backend = device.backend as WebGpuBackend;
const tf = await startTfWebGpu(device);
const started = performance.now();
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  adapter: backend.context.summary.description,
  tfjs: `@tensorflow/tfjs-core ${tf.version_core} + tfjs-backend-webgpu (backend '${tf.getBackend()}')`,
};
console.log(`adapter: ${results.adapter}\nmachine: ${results.machine}\npeer: ${results.tfjs}`);

// Tile tuning (cached per adapter; quick here: only the classes the sizes below use).
const tune = await tuneMatmul(device, { budgetMs: quick ? 10_000 : 40_000 });
console.log(
  `matmul tiles: ${JSON.stringify(tune.tiles)}${tune.file ? ` (cached in ${tune.file})` : ''}`,
);
results.tiles = tune.tiles;

// --- matmul -------------------------------------------------------------------------------
const sizes = quick ? [256, 512] : [256, 512, 1024, 2048];
const roof = numpyRoof(sizes);
const mmRows: Row[] = [];
for (const n of sizes) {
  const flop = 2 * n ** 3;
  const reps = n >= 2048 ? 2 : 4;
  const fathom = await scope(async () => {
    const a = randn([n, n], { device, generator: new Generator(1) });
    const b = randn([n, n], { device, generator: new Generator(2) });
    return timeIt(
      async () => {
        const c = matmul(a, b);
        await c.toArray();
        c.dispose();
      },
      { reps },
    );
  });
  const ta = tf.randomNormal([n, n]);
  const tb = tf.randomNormal([n, n]);
  const peer = await timeIt(
    async () => {
      const c = tf.matMul(ta, tb);
      await c.data();
      c.dispose();
    },
    { reps },
  );
  tf.dispose([ta, tb]);
  const gf = flop / fathom / 1e6;
  const gp = flop / peer / 1e6;
  const r = roof?.[n];
  mmRows.push({
    case: `matmul f32 ${n}³`,
    fathom: gf,
    peer: gp,
    unit: 'GFLOP/s',
    ratio: gf / gp,
    note: r
      ? `roof ${r.toFixed(0)} GFLOP/s; fathom ${((100 * gf) / r).toFixed(1)} % of roof`
      : 'no numpy',
  });
}
printTable(
  'f32 matmul (median; TF.js WebGPU is the peer; roof = numpy/OpenBLAS on these cores)',
  mmRows,
);
results.matmul = mmRows;
results.roof = roof;

// --- softmax / layer-norm -------------------------------------------------------------------
const rowsCases: [string, number, number][] = quick
  ? [['softmax', 1024, 256]]
  : [
      ['softmax', 4096, 128],
      ['softmax', 1024, 1024],
      ['layerNorm', 1024, 768],
      ['layerNorm', 4096, 128],
    ];
const normRows: Row[] = [];
for (const [op, rows, cols] of rowsCases) {
  const fathom = await scope(async () => {
    const x = randn([rows, cols], { device, generator: new Generator(3) });
    const w = randn([cols], { device, generator: new Generator(4) });
    const bias = randn([cols], { device, generator: new Generator(5) });
    return timeIt(async () => {
      const y = op === 'softmax' ? softmax(x, -1) : layerNorm(x, w, bias);
      await y.toArray();
      y.dispose();
    });
  });
  const x = tf.randomNormal([rows, cols]);
  const w = tf.randomNormal([cols]);
  const bias = tf.randomNormal([cols]);
  const peer = await timeIt(async () => {
    const y = tf.tidy(() => {
      if (op === 'softmax') return tf.softmax(x);
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), w), bias);
    });
    await y.data();
    y.dispose();
  });
  tf.dispose([x, w, bias]);
  normRows.push({
    case: `${op} [${rows}, ${cols}]`,
    fathom,
    peer,
    unit: 'ms',
    ratio: peer / fathom,
  });
}
printTable(
  'softmax and layer-norm (median ms incl. readback; ratio = peer time / fathom time)',
  normRows,
);
results.rows = normRows;

// --- attention ------------------------------------------------------------------------------
const [B, H, D] = [2, 4, 32];
const attRows: Row[] = [];
const memRows: { T: number; fusedPeak: number; unfusedPeak: number }[] = [];
for (const T of quick ? [128] : [128, 256, 512]) {
  const fwdBwd = (fused: boolean) => async () => {
    await scope(async () => {
      const mk = (seed: number): Tensor => {
        const t = randn([B, H, T, D], { device, generator: new Generator(seed) });
        t.requiresGrad = true;
        return t;
      };
      const [q, k, v] = [mk(6), mk(7), mk(8)];
      const y = fused ? causalAttention(q, k, v) : unfusedAttention(q, k, v);
      sum(y).backward();
      await q.grad!.toArray();
    });
  };
  const fused = await timeIt(fwdBwd(true), { reps: 3 });
  const unfused = await timeIt(fwdBwd(false), { reps: 3 });
  const peakOf = async (f: boolean): Promise<number> => {
    device.resetPeak();
    const base = device.memory().liveBytes;
    await fwdBwd(f)();
    return device.memory().peakBytes - base;
  };
  const fusedPeak = await peakOf(true);
  const unfusedPeak = await peakOf(false);
  memRows.push({ T, fusedPeak, unfusedPeak });
  const peer = await timeIt(
    async () => {
      const mk = () => tf.variable(tf.randomNormal([B, H, T, D]));
      const [q, k, v] = [mk(), mk(), mk()];
      const mask = tf.tidy(() =>
        tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9),
      );
      const { grads, value } = tf.variableGrads(() =>
        tf.sum(
          tf.matMul(
            tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask)),
            v,
          ),
        ),
      );
      await grads[q.name]!.data();
      tf.dispose([q, k, v, mask, value, ...Object.values(grads)]);
    },
    { reps: 3 },
  );
  attRows.push({
    case: `attention fwd+bwd B${B} H${H} T${T} d${D} (fused)`,
    fathom: fused,
    peer,
    unit: 'ms',
    ratio: peer / fused,
    note: `fathom unfused ${unfused.toFixed(0)} ms`,
  });
}
printTable('causal attention forward+backward (median ms; peer = TF.js unfused)', attRows);
console.table(
  memRows.map((m) => ({
    T: m.T,
    'fused peak MiB': (m.fusedPeak / 2 ** 20).toFixed(2),
    'unfused peak MiB': (m.unfusedPeak / 2 ** 20).toFixed(2),
    'fused/unfused': (m.fusedPeak / m.unfusedPeak).toFixed(3),
  })),
);
results.attention = attRows;
results.attentionMemory = memRows;

// --- shared-memory tiles for reference (the kernel family the direct one replaced) -------------
const prev = setMatmulFamily('shared');
const n = quick ? 256 : 1024;
const shared = await scope(async () => {
  const a = randn([n, n], { device, generator: new Generator(1) });
  const b = randn([n, n], { device, generator: new Generator(2) });
  return timeIt(async () => {
    const c = matmul(a, b);
    await c.toArray();
    c.dispose();
  });
});
setMatmulFamily(prev);
results.sharedMemoryMatmul = { n, gflops: (2 * n ** 3) / shared / 1e6 };
console.log(
  `\nshared-memory 64×64 tiles at ${n}³: ${((2 * n ** 3) / shared / 1e6).toFixed(2)} GFLOP/s`,
);

results.seconds = (performance.now() - started) / 1000;
console.log(
  `\nwrote ${saveResults(quick ? 'ops-quick' : 'ops', results)} in ${(results.seconds as number).toFixed(0)} s`,
);
device.close();
