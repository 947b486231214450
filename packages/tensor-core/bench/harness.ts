/** Timing, tables, the numpy roof and TF.js-on-Dawn setup shared by the op benchmarks. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Device, WebGpuBackend } from '../src/index.js';

/** One row of a results table. */
export interface Row {
  case: string;
  fathom: number;
  peer: number | null;
  unit: string;
  /** Fathom/peer where higher is better (rates), peer/Fathom for times. */
  ratio: number | null;
  note?: string;
}

/** Median of samples. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Median milliseconds of `run` over `reps` timed calls after `warm` untimed ones, stopping
 * early once `budgetMs` is spent (the suite must stay within a few minutes).
 */
export async function timeIt(
  run: () => Promise<void>,
  { reps = 5, warm = 1, budgetMs = 20_000 } = {},
): Promise<number> {
  for (let i = 0; i < warm; i++) await run();
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
    if (performance.now() - start > budgetMs && samples.length >= 2) break;
  }
  return median(samples);
}

/** Prints rows as a table. */
export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      case: r.case,
      fathom: `${r.fathom.toFixed(2)} ${r.unit}`,
      peer: r.peer === null ? '-' : `${r.peer.toFixed(2)} ${r.unit}`,
      'fathom/peer': r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`,
      ...(r.note ? { note: r.note } : {}),
    })),
  );
}

/** Writes `bench/results/<name>.json` beside this file. */
export function saveResults(name: string, data: unknown): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** numpy/OpenBLAS float32 matmul GFLOP/s on these cores (best of 5: the CPU roof), or null without numpy. */
export function numpyRoof(sizes: number[]): Record<number, number> | null {
  const script = `
import sys, time, json
try:
    import numpy as np
except ImportError:
    print('null'); sys.exit(0)
out = {}
for n in ${JSON.stringify(sizes)}:
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    a @ b
    ts = []
    for _ in range(5):
        t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
    out[n] = 2 * n**3 / min(ts) / 1e9
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 || !r.stdout.trim() || r.stdout.trim() === 'null') return null;
  return JSON.parse(r.stdout.trim()) as Record<number, number>;
}

/** The TF.js module with its WebGPU backend running on Fathom's Dawn instance. */
export type Tf = typeof TfCore;

/**
 * Starts TF.js's WebGPU backend on the Dawn instance of `device` (same adapter, same process):
 * TF.js finds WebGPU through `navigator.gpu`, which Node 20 lacks, so it is set first.
 */
export async function startTfWebGpu(device: Device): Promise<Tf> {
  const backend = device.backend as WebGpuBackend;
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  (g.navigator as { gpu?: GPU }).gpu = backend.context.gpu;
  const tf = await import('@tensorflow/tfjs-core');
  // Gradients register separately from the core ops.
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  await import('@tensorflow/tfjs-backend-webgpu');
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'webgpu')
    throw new Error(`TF.js did not start its WebGPU backend (got '${tf.getBackend()}')`);
  return tf;
}
