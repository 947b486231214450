import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../device.js';
import type { DType } from '../../dtype.js';
import { roundToBf16, roundToF16 } from '../../half.js';
import { scope } from '../../memory/scope.js';
import * as ops from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import {
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  values,
  type TestDevices,
} from '../../test-utils/index.js';
import { directPlan } from './matmul-direct.js';
import { tuneMatmul } from './matmul-tune-run.js';
import {
  TILE_CANDIDATES,
  adapterKey,
  setTiles,
  shapeClass,
  tileFor,
  tunedTable,
} from './matmul-tuner.js';
import type { WebGpuBackend } from './webgpu-backend.js';

let d: TestDevices;
let backend: WebGpuBackend;
beforeAll(async () => {
  d = await openTestDevices();
  backend = d.gpu.backend as WebGpuBackend;
});
afterAll(() => d.close());

const F32 = { atol: 1e-4, rtol: 1e-4 };
const sizeOf = (s: readonly number[]): number => s.reduce((n, v) => n * v, 1);

/** Forces every shape class of every A mode to `tile`. */
function useTile(tile: (typeof TILE_CANDIDATES)[number]): void {
  const tiles: Record<string, (typeof TILE_CANDIDATES)[number]> = {};
  for (const mode of ['vk', 'vm', 's'])
    for (const size of ['small', 'medium', 'large']) tiles[`${mode}:${size}`] = tile;
  setTiles(backend, tiles);
}

async function compare(
  shapes: number[][],
  build: (...xs: Tensor[]) => Tensor,
  seed: number,
  dtype: DType = 'f32',
  tol = F32,
): Promise<void> {
  const rand = rng(seed);
  const round = dtype === 'f16' ? roundToF16 : dtype === 'bf16' ? roundToBf16 : (v: number) => v;
  const inputs = shapes.map((s) => Array.from(uniformValues(rand, sizeOf(s)), round));
  const run = (device: Device): Promise<number[]> =>
    scope(async () => {
      const xs = inputs.map((v, i) => ops.fromArray(v, shapes[i]!, { device, dtype }));
      return values(build(...xs));
    });
  const got = await run(d.gpu);
  const want = await run(d.ref);
  expectClose(got, want, tol, `${dtype} ${JSON.stringify(shapes)}`);
}

/** Products that take the direct kernel in each of its A modes (N is a multiple of 4). */
async function directCases(seed: number): Promise<void> {
  // vk: row-major A with K % 4 == 0; odd M, N not a multiple of any tile's columns.
  await compare(
    [
      [37, 64],
      [64, 36],
    ],
    (a, b) => ops.matmul(a, b),
    seed,
  );
  // s: K odd (scalar A reads with a K tail).
  await compare(
    [
      [21, 45],
      [45, 12],
    ],
    (a, b) => ops.matmul(a, b),
    seed + 1,
  );
  // vm: A transposed in place (unit stride along M, M % 4 == 0).
  await compare(
    [
      [40, 28],
      [40, 20],
    ],
    (a, b) => ops.matmul(a, b, { transA: true }),
    seed + 2,
  );
  // transB: B copied to K×N first; both transposed.
  await compare(
    [
      [19, 32],
      [44, 32],
    ],
    (a, b) => ops.matmul(a, b, { transB: true }),
    seed + 3,
  );
  await compare(
    [
      [32, 12],
      [8, 32],
    ],
    (a, b) => ops.matmul(a, b, { transA: true, transB: true }),
    seed + 4,
  );
  // Batched with a broadcast batch dim on each side, and a 4-D permuted view.
  await compare(
    [
      [3, 1, 9, 16],
      [2, 16, 8],
    ],
    (a, b) => ops.matmul(a, b),
    seed + 5,
  );
  await compare(
    [
      [2, 3, 11, 8],
      [3, 2, 8, 16],
    ],
    (a, b) => ops.matmul(a, ops.permute(b, [1, 0, 2, 3])),
    seed + 6,
  );
}

describe('direct matmul kernel (register-blocked, no barriers)', () => {
  it('is what products with B unit-stride along N and N % 4 == 0 use', () => {
    scope(() => {
      const view = (t: Tensor) => ({
        handle: t.storage.handle,
        dtype: t.dtype,
        shape: t.shape,
        strides: t.strides,
        offset: t.offset,
      });
      const a = ops.zeros([8, 16], { device: d.gpu });
      const b = ops.zeros([16, 12], { device: d.gpu });
      const out = ops.zeros([8, 12], { device: d.gpu });
      expect(directPlan(view(a), view(b), view(out), [])).toBe('vk');
      const at = ops.transpose(ops.zeros([16, 8], { device: d.gpu }));
      expect(directPlan(view(at), view(b), view(out), [])).toBe('vm');
      const odd = ops.zeros([8, 15], { device: d.gpu });
      const bOdd = ops.zeros([15, 12], { device: d.gpu });
      expect(directPlan(view(odd), view(bOdd), view(out), [])).toBe('s');
      const bt = ops.transpose(ops.zeros([12, 16], { device: d.gpu }));
      expect(directPlan(view(a), view(bt), view(out), [])).toBeNull();
    });
  });

  it('uses the built-in tile for each shape class without a tuning cache', () => {
    setTiles(backend, {});
    const small = tileFor(backend, 'vk', 16, 16, 1);
    const large = tileFor(backend, 'vk', 1024, 1024, 1);
    expect(shapeClass('vk', 16, 16, 1)).toBe('vk:small');
    expect(shapeClass('vk', 1024, 1024, 1)).toBe('vk:large');
    expect(large.rm * large.cn).toBeGreaterThanOrEqual(small.rm * small.cn);
  });

  it('matches the reference in every A mode, transposed and batched, with the built-in tiles', async () => {
    setTiles(backend, {});
    await directCases(100);
  });

  // Each candidate compiles its own pipelines (seconds each on lavapipe): one product per
  // candidate in the scalar-A mode, whose K tail and clamped edges cover the most code.
  for (const [i, tile] of TILE_CANDIDATES.entries()) {
    it(`matches the reference with tile ${JSON.stringify(tile)}`, async () => {
      useTile(tile);
      try {
        await compare(
          [
            [29, 45],
            [45, 20],
          ],
          (a, b) => ops.matmul(a, b),
          200 + i,
        );
      } finally {
        setTiles(backend, {});
      }
    });
  }

  it('reads f16 and bf16 operands in registers and accumulates in f32', async () => {
    for (const dtype of ['f16', 'bf16'] as const) {
      const tol = dtype === 'f16' ? { atol: 2e-3, rtol: 4e-3 } : { atol: 2e-2, rtol: 2e-2 };
      await compare(
        [
          [13, 32],
          [32, 24],
        ],
        (a, b) => ops.matmul(a, b),
        7,
        dtype,
        tol,
      );
      await compare(
        [
          [32, 16],
          [32, 8],
        ],
        (a, b) => ops.matmul(a, b, { transA: true }),
        8,
        dtype,
        tol,
      );
      await compare(
        [
          [5, 24],
          [12, 24],
        ],
        (a, b) => ops.matmul(a, b, { transB: true }),
        9,
        dtype,
        tol,
      );
    }
  });

  it('tunes a class, writes the choice to FATHOM_CACHE_DIR and uses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fathom-tune-'));
    const before = process.env.FATHOM_CACHE_DIR;
    process.env.FATHOM_CACHE_DIR = dir;
    try {
      const result = await tuneMatmul(d.gpu, {
        classes: ['small'],
        modes: ['vk'],
        budgetMs: 1,
        force: true,
      });
      expect(result.cached).toBe(false);
      const chosen = result.tiles['vk:small']!;
      expect(result.timings['vk:small']![0]!.tile).toEqual(chosen);
      const file = JSON.parse(readFileSync(join(dir, 'matmul-tiles.json'), 'utf8')) as {
        adapters: Record<string, { tiles: Record<string, unknown> }>;
      };
      expect(file.adapters[adapterKey(backend)]!.tiles['vk:small']).toEqual(chosen);
      expect(tunedTable(backend).get('vk:small')).toEqual(chosen);
      expect(tileFor(backend, 'vk', 16, 16, 1)).toEqual(chosen);
    } finally {
      if (before === undefined) delete process.env.FATHOM_CACHE_DIR;
      else process.env.FATHOM_CACHE_DIR = before;
      setTiles(backend, {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
