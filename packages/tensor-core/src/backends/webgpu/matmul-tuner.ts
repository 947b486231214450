/**
 * Per-adapter choice of the direct matmul kernel's tile (matmul-direct.ts).
 *
 * Ops are synchronous, so nothing is timed inside `matmul`: the kernel asks
 * {@link tileFor}, which answers from a table the tuner wrote for this adapter
 * (loaded once per backend from the cache directory) or, without one, from a
 * built-in default measured on lavapipe. {@link tuneMatmul} times every
 * candidate on one representative product per shape class and writes the
 * winners to `<cache>/matmul-tiles.json`, keyed by adapter description; the
 * cache directory is `FATHOM_CACHE_DIR` or `~/.cache/fathom`. Results never
 * depend on the table: every tile computes the same products.
 */
import type { AMode, DirectTile } from './matmul-direct.js';
import type { WebGpuBackend } from './webgpu-backend.js';

/** Tiles the tuner tries (rows × vec4 columns per invocation, workgroup shape). */
export const TILE_CANDIDATES: readonly DirectTile[] = [
  { rm: 8, cn: 1, wgx: 32, wgy: 1, subgroup: true },
  { rm: 8, cn: 2, wgx: 64, wgy: 1, subgroup: true },
  { rm: 16, cn: 1, wgx: 32, wgy: 1, subgroup: true },
  { rm: 16, cn: 2, wgx: 32, wgy: 1, subgroup: true },
  { rm: 24, cn: 2, wgx: 32, wgy: 1, subgroup: true },
  { rm: 32, cn: 1, wgx: 32, wgy: 1, subgroup: true },
  { rm: 4, cn: 1, wgx: 8, wgy: 8 },
  { rm: 8, cn: 2, wgx: 8, wgy: 8 },
];

/** Size classes by output elements per product: few outputs need small tiles to fill the cores. */
export type SizeClass = 'small' | 'medium' | 'large';

/** The table's key for a product: A's read mode and the size class. */
export function shapeClass(mode: AMode, m: number, n: number, batch: number): string {
  const outputs = m * n * batch;
  const size: SizeClass = outputs < 1 << 16 ? 'small' : outputs < 1 << 19 ? 'medium' : 'large';
  return `${mode}:${size}`;
}

/** Representative products (m, n, k) the tuner times for each size class. */
export const CLASS_SHAPES: Record<SizeClass, [number, number, number]> = {
  small: [128, 256, 256],
  medium: [512, 512, 512],
  large: [1024, 1024, 1024],
};

/** Built-in choices with subgroups (lavapipe, 2 cores): see docs/performance.md. */
const SUBGROUP_DEFAULTS: Record<SizeClass, DirectTile> = {
  small: { rm: 8, cn: 1, wgx: 32, wgy: 1, subgroup: true },
  medium: { rm: 16, cn: 1, wgx: 32, wgy: 1, subgroup: true },
  large: { rm: 16, cn: 2, wgx: 32, wgy: 1, subgroup: true },
};

/** Built-in choices without subgroups: large register blocks unless the grid would starve. */
const DEFAULTS: Record<SizeClass, DirectTile> = {
  small: { rm: 4, cn: 1, wgx: 8, wgy: 8 },
  medium: { rm: 8, cn: 1, wgx: 8, wgy: 8 },
  large: { rm: 8, cn: 2, wgx: 8, wgy: 8 },
};

/** The file format of the tile cache. */
export interface TileCacheFile {
  version: 1;
  adapters: Record<string, { tiles: Record<string, DirectTile>; tunedAt: string }>;
}

const tables = new WeakMap<WebGpuBackend, Map<string, DirectTile>>();

interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  mkdirSync(path: string, options: { recursive: boolean }): void;
}
interface NodePath {
  join(...parts: string[]): string;
}
interface NodeOs {
  homedir(): string;
}

/** Node's built-in modules when running in Node (the cache is off in browsers). */
function nodeModules(): { fs: NodeFs; path: NodePath; os: NodeOs } | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  return {
    fs: get('node:fs') as NodeFs,
    path: get('node:path') as NodePath,
    os: get('node:os') as NodeOs,
  };
}

/** The directory tuning results live in: `FATHOM_CACHE_DIR`, else `~/.cache/fathom`; null outside Node. */
export function cacheDir(): string | null {
  const node = nodeModules();
  if (!node) return null;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env?.FATHOM_CACHE_DIR || node.path.join(node.os.homedir(), '.cache', 'fathom');
}

function cacheFile(): string | null {
  const dir = cacheDir();
  const node = nodeModules();
  return dir && node ? node.path.join(dir, 'matmul-tiles.json') : null;
}

function isTile(t: unknown): t is DirectTile {
  if (typeof t !== 'object' || t === null) return false;
  const o = t as Record<string, unknown>;
  return ['rm', 'cn', 'wgx', 'wgy'].every(
    (k) => Number.isInteger(o[k]) && (o[k] as number) > 0 && (o[k] as number) <= 64,
  );
}

function readCache(): TileCacheFile {
  const file = cacheFile();
  const node = nodeModules();
  const empty: TileCacheFile = { version: 1, adapters: {} };
  if (!file || !node) return empty;
  try {
    const parsed = JSON.parse(node.fs.readFileSync(file, 'utf8')) as TileCacheFile;
    return parsed.version === 1 && typeof parsed.adapters === 'object' ? parsed : empty;
  } catch {
    // A missing or unreadable cache means defaults; tuning writes a fresh one.
    return empty;
  }
}

/** The adapter key of a backend in the cache file. */
export function adapterKey(backend: WebGpuBackend): string {
  return backend.context.summary.description;
}

/** The tuned tiles of `backend` (loaded from the cache file on first use). */
export function tunedTable(backend: WebGpuBackend): ReadonlyMap<string, DirectTile> {
  return tableOf(backend);
}

function tableOf(backend: WebGpuBackend): Map<string, DirectTile> {
  let table = tables.get(backend);
  if (!table) {
    table = new Map();
    const entry = readCache().adapters[adapterKey(backend)];
    for (const [key, tile] of Object.entries(entry?.tiles ?? {}))
      if (isTile(tile)) table.set(key, tile);
    tables.set(backend, table);
  }
  return table;
}

/** The tile the direct kernel uses for a product on `backend`. */
export function tileFor(
  backend: WebGpuBackend,
  mode: AMode,
  m: number,
  n: number,
  batch: number,
): DirectTile {
  const key = shapeClass(mode, m, n, batch);
  const subgroups = backend.context.summary.subgroups;
  const tuned = tableOf(backend).get(key);
  if (tuned && (subgroups || !tuned.subgroup)) return tuned;
  const size = key.split(':')[1] as SizeClass;
  return subgroups ? SUBGROUP_DEFAULTS[size] : DEFAULTS[size];
}

/** Replaces the in-memory table of `backend` (the tuner's result; also for tests). */
export function setTiles(backend: WebGpuBackend, tiles: Record<string, DirectTile>): void {
  tables.set(backend, new Map(Object.entries(tiles)));
}

/** Writes the tiles of `backend` into the cache file atomically (temp file, then rename). */
export function saveTiles(
  backend: WebGpuBackend,
  tiles: Record<string, DirectTile>,
): string | null {
  const file = cacheFile();
  const node = nodeModules();
  const dir = cacheDir();
  if (!file || !node || !dir) return null;
  const cache = readCache();
  cache.adapters[adapterKey(backend)] = { tiles, tunedAt: new Date().toISOString() };
  node.fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${Date.now()}.tmp`;
  node.fs.writeFileSync(tmp, `${JSON.stringify(cache, null, 2)}\n`);
  node.fs.renameSync(tmp, file);
  return file;
}
