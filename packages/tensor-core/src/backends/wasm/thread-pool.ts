/**
 * Worker threads that run the module's kernels on the shared memory. Each worker
 * instantiates the same compiled module over the same memory; a call writes the
 * kernel index and its arguments into a control block in that memory, wakes the
 * workers with `Atomics.notify`, runs share 0 on the calling thread and waits
 * (spinning briefly, then `Atomics.wait`) until every worker has finished its share.
 */
import { Worker } from 'node:worker_threads';
import type { WasmInstance, WasmMemory, WasmModule } from './webassembly.js';
import { KERNEL_NAMES, type KernelName } from './wasm-module.js';

// Int32 slots of the control block.
const GEN = 0;
const PENDING = 1;
const FN = 2;
const NARGS = 3;
const NTH = 4;
const STOP = 5;
const ERR = 6;
/** Byte offset of the float64 argument area inside the control block. */
const ARGS_AT = 64;
const MAX_ARGS = 32;
/** Bytes the control block occupies. */
export const CONTROL_BYTES = ARGS_AT + MAX_ARGS * 8;

// Plain JavaScript so the worker runs the same from sources (tests) and from dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, ctl, names, tid } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const i32 = new Int32Array(memory.buffer, ctl, 16);
const f64 = new Float64Array(memory.buffer, ctl + ${ARGS_AT}, ${MAX_ARGS});
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(i32, ${GEN}, seen);
  const gen = Atomics.load(i32, ${GEN});
  if (gen === seen) continue;
  seen = gen;
  if (Atomics.load(i32, ${STOP}) !== 0) break;
  const nth = i32[${NTH}];
  const n = i32[${NARGS}];
  const args = new Array(n + 2);
  for (let i = 0; i < n; i++) args[i] = f64[i];
  args[n] = tid;
  args[n + 1] = nth;
  try {
    fns[i32[${FN}]](...args);
  } catch (e) {
    Atomics.store(i32, ${ERR}, tid);
  }
  if (Atomics.sub(i32, ${PENDING}, 1) === 1) Atomics.notify(i32, ${PENDING});
}
`;

type KernelFn = (...args: number[]) => void;

/** See the module comment. */
export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly fns: KernelFn[];
  private destroyed = false;

  private constructor(
    private readonly workers: Worker[],
    memory: WasmMemory,
    ctl: number,
    instance: WasmInstance,
    /** Threads taking part in a parallel call, the caller's included. */
    readonly threads: number,
  ) {
    // The control block lies in the first page, which every later buffer still covers.
    this.i32 = new Int32Array(memory.buffer, ctl, 16);
    this.f64 = new Float64Array(memory.buffer, ctl + ARGS_AT, MAX_ARGS);
    this.fns = KERNEL_NAMES.map((n) => instance.exports[n] as KernelFn);
  }

  /** Starts `threads − 1` workers (the caller is the last thread) and waits until they are ready. */
  static async start(
    module: WasmModule,
    memory: WasmMemory,
    instance: WasmInstance,
    ctl: number,
    threads: number,
  ): Promise<ThreadPool> {
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, ctl, names: KERNEL_NAMES, tid },
      });
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw new Error(`wasm backend: a worker thread failed to start: ${String(e)}`, { cause: e });
    }
    // Idle workers must not keep the process alive.
    for (const w of workers) w.unref();
    return new ThreadPool(workers, memory, ctl, instance, threads);
  }

  /**
   * Runs kernel `name` with `args` then (tid, nth): on every thread when `parallel`,
   * otherwise on the caller alone as share 0 of 1.
   */
  run(name: KernelName, args: readonly number[], parallel: boolean): void {
    const fn = this.fns[KERNEL_NAMES.indexOf(name)]!;
    if (!parallel || this.threads === 1) {
      fn(...args, 0, 1);
      return;
    }
    if (this.destroyed) throw new Error('wasm backend: the device is closed');
    const { i32, f64 } = this;
    for (let i = 0; i < args.length; i++) f64[i] = args[i]!;
    i32[FN] = KERNEL_NAMES.indexOf(name);
    i32[NARGS] = args.length;
    i32[NTH] = this.threads;
    Atomics.store(i32, ERR, 0);
    Atomics.store(i32, PENDING, this.threads - 1);
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    fn(...args, 0, this.threads);
    for (let spins = 0; ; spins++) {
      const left = Atomics.load(i32, PENDING);
      if (left === 0) break;
      if (spins > 4000) Atomics.wait(i32, PENDING, left, 50);
    }
    const failed = Atomics.load(i32, ERR);
    if (failed !== 0) throw new Error(`wasm backend: kernel ${name} failed on worker ${failed}`);
  }

  /** Stops the workers. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    Atomics.store(this.i32, STOP, 1);
    Atomics.add(this.i32, GEN, 1);
    Atomics.notify(this.i32, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
