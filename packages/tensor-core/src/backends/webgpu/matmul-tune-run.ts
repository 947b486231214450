/**
 * The matmul tile tuner: times each candidate tile of the direct kernel on one
 * product per shape class and keeps the fastest (see matmul-tuner.ts for the
 * cache it writes and how kernels read it).
 */
import type { Device } from '../../device.js';
import type { TensorView } from '../../backend.js';
import { contiguousStrides } from '../../shape.js';
import type { AMode, DirectTile } from './matmul-direct.js';
import { dispatchDirect } from './matmul-direct.js';
import {
  CLASS_SHAPES,
  type SizeClass,
  TILE_CANDIDATES,
  saveTiles,
  setTiles,
  shapeClass,
  tileFor,
  tunedTable,
} from './matmul-tuner.js';
import type { WebGpuBackend } from './webgpu-backend.js';

/** Options of {@link tuneMatmul}. */
export interface TuneMatmulOptions {
  /** Size classes to tune (default all three). */
  classes?: SizeClass[];
  /** A modes to tune (default 'vk' and 'vm', the forward and weight-gradient products). */
  modes?: AMode[];
  /** Timed runs per candidate (the fastest counts; default 2). */
  repeats?: number;
  /** Total time allowed, split evenly over the (class, mode) pairs; a pair stops trying candidates past its share (default 60 s). The built-in tile is always timed first. */
  budgetMs?: number;
  /** Write the result to the cache file (default true). */
  save?: boolean;
  /** Tune even when the cache already holds this adapter's classes (default false). */
  force?: boolean;
}

/** What {@link tuneMatmul} chose. */
export interface TuneMatmulResult {
  /** Tile per shape class key (`mode:size`). */
  tiles: Record<string, DirectTile>;
  /** Milliseconds per candidate per class, for reports. */
  timings: Record<string, { tile: DirectTile; ms: number }[]>;
  /** The cache file written, or null (not in Node, or `save: false`). */
  file: string | null;
  /** True when every class came from the cache and nothing was timed. */
  cached: boolean;
}

function view(handle: TensorView['handle'], shape: number[], strides?: number[]): TensorView {
  return { handle, dtype: 'f32', shape, strides: strides ?? contiguousStrides(shape), offset: 0 };
}

/**
 * Picks the direct matmul kernel's tile per shape class for this device's adapter by timing
 * the candidates, caches the choice on disk (`FATHOM_CACHE_DIR` or `~/.cache/fathom`) and
 * makes later products on this device use it. Results of products never depend on it.
 * On a non-WebGPU device it does nothing.
 */
export async function tuneMatmul(
  device: Device,
  options: TuneMatmulOptions = {},
): Promise<TuneMatmulResult> {
  if (device.kind !== 'webgpu') return { tiles: {}, timings: {}, file: null, cached: true };
  const backend = device.backend as WebGpuBackend;
  const classes = options.classes ?? ['small', 'medium', 'large'];
  const modes = options.modes ?? ['vk', 'vm'];
  const repeats = options.repeats ?? 2;
  const budget = options.budgetMs ?? 60_000;
  const tiles: Record<string, DirectTile> = {};
  const timings: TuneMatmulResult['timings'] = {};
  let timed = false;
  const candidates = TILE_CANDIDATES.filter(
    (t) => !t.subgroup || backend.context.summary.subgroups,
  );
  for (const size of classes) {
    const [m, n, k] = CLASS_SHAPES[size];
    for (const mode of modes) {
      const key = shapeClass(mode, m, n, 1);
      if (!options.force && tunedTable(backend).has(key)) {
        tiles[key] = tileFor(backend, mode, m, n, 1);
        continue;
      }
      timed = true;
      const aH = backend.allocate('f32', m * k);
      const bH = backend.allocate('f32', k * n);
      const cH = backend.allocate('f32', m * n);
      const a = mode === 'vm' ? view(aH, [m, k], [1, m]) : view(aH, [m, k]);
      const b = view(bH, [k, n]);
      const c = view(cH, [m, n]);
      const list: { tile: DirectTile; ms: number }[] = [];
      const share = budget / (classes.length * modes.length);
      const pairStart = performance.now();
      const builtIn = tileFor(backend, mode, m, n, 1);
      const ordered = [
        builtIn,
        ...candidates.filter((t) => JSON.stringify(t) !== JSON.stringify(builtIn)),
      ];
      for (const tile of ordered) {
        if (list.length > 0 && performance.now() - pairStart > share) break;
        const once = async (): Promise<number> => {
          const t0 = performance.now();
          dispatchDirect(backend, a, b, c, mode, tile);
          await backend.read(cH, 'f32', 0, 1);
          return performance.now() - t0;
        };
        await once(); // compiles the pipeline
        let best = Infinity;
        for (let r = 0; r < repeats; r++) best = Math.min(best, await once());
        list.push({ tile, ms: best });
      }
      list.sort((x, y) => x.ms - y.ms);
      timings[key] = list;
      tiles[key] = list[0]!.tile;
      for (const h of [aH, bH, cH]) backend.release(h);
    }
  }
  const merged = { ...Object.fromEntries(tunedTable(backend)), ...tiles };
  setTiles(backend, merged);
  const file = timed && options.save !== false ? saveTiles(backend, merged) : null;
  return { tiles, timings, file, cached: !timed };
}
