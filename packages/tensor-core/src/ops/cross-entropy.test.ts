import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { roundToBf16, roundToF16 } from '../half.js';
import { scope } from '../memory/scope.js';
import {
  TOLERANCE,
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';
import * as ops from './index.js';
import type { CrossEntropyOptions } from './cross-entropy.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/**
 * The direct float64 formula of torch.nn.functional.cross_entropy: per-row losses,
 * the reduced loss, and the gradient of `sum(upstream · loss)` with respect to the logits.
 */
function oracle(
  x: ArrayLike<number>,
  t: ArrayLike<number>,
  C: number,
  { ignoreIndex = -100, labelSmoothing: eps = 0, reduction = 'mean' }: CrossEntropyOptions,
  upstream: ArrayLike<number> = [1],
): { rows: Float64Array; reduced: number; grad: Float64Array } {
  const N = t.length;
  const rows = new Float64Array(N);
  const grad = new Float64Array(N * C);
  let count = 0;
  for (let r = 0; r < N; r++) {
    if (t[r] === ignoreIndex) continue;
    count++;
  }
  for (let r = 0; r < N; r++) {
    const target = t[r]!;
    if (target === ignoreIndex) continue;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[r * C + c]! - m);
    const lse = m + Math.log(s);
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth += (lse - x[r * C + c]!) / C;
    const valid = target >= 0 && target < C;
    // torch adds the smoothing term only when ε > 0 (so a −inf logit gives no 0·inf).
    rows[r] = valid ? (1 - eps) * (lse - x[r * C + target]!) + (eps > 0 ? eps * smooth : 0) : NaN;
    const g =
      reduction === 'none'
        ? upstream[r]!
        : reduction === 'sum'
          ? upstream[0]!
          : upstream[0]! / count;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(x[r * C + c]! - lse);
      grad[r * C + c] = valid ? (p - ((c === target ? 1 - eps : 0) + eps / C)) * g : NaN;
    }
  }
  const total = rows.reduce((a, b) => a + b, 0);
  const reduced = reduction === 'sum' ? total : count === 0 ? NaN : total / count;
  return { rows, reduced, grad };
}

/** Targets in [0, C) with roughly `ignoredShare` of them set to the ignore index. */
function targetsFor(
  rand: () => number,
  N: number,
  C: number,
  ignore: number,
  ignoredShare = 0.2,
): Int32Array {
  return Int32Array.from({ length: N }, () =>
    rand() < ignoredShare ? ignore : Math.floor(rand() * C),
  );
}

const F32 = { atol: 1e-5, rtol: 1e-4 };
const EXACT = { atol: 1e-12, rtol: 1e-10 };

describe('forward matches the float64 formula on WebGPU and the reference', () => {
  const cases: { shape: number[]; opts: CrossEntropyOptions }[] = [
    { shape: [5, 10], opts: {} },
    { shape: [33, 300], opts: { labelSmoothing: 0.1 } },
    { shape: [1, 1], opts: { reduction: 'sum' } },
    { shape: [2, 3, 7], opts: { reduction: 'none', labelSmoothing: 0.25 } },
    { shape: [9, 2], opts: { ignoreIndex: 1, reduction: 'mean' } },
    { shape: [17, 513], opts: { ignoreIndex: 3, labelSmoothing: 1, reduction: 'sum' } },
    { shape: [0, 4], opts: { reduction: 'none' } },
    { shape: [0, 4], opts: { reduction: 'sum' } },
  ];
  it('over ranks, class counts, reductions, ignore index and label smoothing', async () => {
    const rand = rng(1);
    for (const { shape, opts } of cases) {
      const C = shape[shape.length - 1]!;
      const N = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const xv = uniformValues(rand, N * C, -4, 4);
      const tv = targetsFor(rand, N, C, opts.ignoreIndex ?? -100);
      const want = oracle(xv, tv, C, opts);
      for (const dev of [d.gpu, d.ref]) {
        const x = ops.fromArray(xv, shape, { device: dev });
        const t = ops.fromArray(tv, shape.slice(0, -1), { device: dev, dtype: 'i32' });
        const loss = ops.crossEntropy(x, t, opts);
        const what = `${dev.name} [${shape.join(',')}] ${JSON.stringify(opts)}`;
        const tol = dev === d.ref ? EXACT : F32;
        if (opts.reduction === 'none') {
          expect(loss.shape).toEqual(shape.slice(0, -1));
          expectClose(await values(loss), want.rows, tol, what);
        } else {
          expect(loss.shape).toEqual([]);
          expectClose([await loss.item()], [want.reduced], tol, what);
        }
      }
    }
  });

  it('mean over no counted rows is NaN (as torch); sum is 0, none gives zeros', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const x = ops.fromArray(uniformValues(rng(2), 12), [3, 4], { device: dev });
      const t = ops.fromArray([-100, -100, -100], [3], { device: dev, dtype: 'i32' });
      expect(await ops.crossEntropy(x, t).item()).toBeNaN();
      expect(await ops.crossEntropy(x, t, { reduction: 'sum' }).item()).toBe(0);
      expect(await values(ops.crossEntropy(x, t, { reduction: 'none' }))).toEqual([0, 0, 0]);
      const empty = ops.zeros([0, 5], { device: dev });
      const none = ops.zeros([0], { device: dev, dtype: 'i32' });
      expect(await ops.crossEntropy(empty, none).item()).toBeNaN();
    }
  });

  it('an out-of-range target that is not ignored gives a NaN loss and NaN gradient row', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const xv = uniformValues(rng(3), 4 * 6);
      const x = ops.fromArray(xv, [4, 6], { device: dev, requiresGrad: true });
      const t = ops.fromArray([2, 6, -1, 0], [4], { device: dev, dtype: 'i32' });
      const rows = await values(ops.crossEntropy(x, t, { reduction: 'none' }));
      expect(rows[0]).not.toBeNaN();
      expect(rows[1]).toBeNaN();
      expect(rows[2]).toBeNaN();
      expect(rows[3]).not.toBeNaN();
      const loss = ops.crossEntropy(x, t, { labelSmoothing: 0.1 });
      expect(await loss.item()).toBeNaN();
      loss.backward();
      const g = await values(x.grad!);
      expect(g.slice(0, 6).every(Number.isFinite)).toBe(true);
      expect(g.slice(6, 18).every(Number.isNaN)).toBe(true);
      expect(g.slice(18).every(Number.isFinite)).toBe(true);
    }
  });

  it('reads non-contiguous logits and targets', async () => {
    const rand = rng(4);
    const N = 11;
    const C = 37;
    const xv = uniformValues(rand, N * C * 2, -3, 3);
    const tv = targetsFor(rand, 2 * N, C, -100);
    for (const dev of [d.gpu, d.ref]) {
      // [C, 2N] transposed to [2N, C], then every other row; targets strided alike.
      const x = ops.slice(ops.transpose(ops.fromArray(xv, [C, 2 * N], { device: dev })), [
        { step: 2 },
      ]);
      const t = ops.slice(ops.fromArray(tv, [2 * N], { device: dev, dtype: 'i32' }), [{ step: 2 }]);
      const dense = await values(ops.contiguous(x));
      const tDense = await values(t);
      const want = oracle(dense, tDense, C, { labelSmoothing: 0.05 });
      const loss = ops.crossEntropy(x, t, { labelSmoothing: 0.05 });
      expectClose([await loss.item()], [want.reduced], F32, dev.name);
    }
  });

  it('is stable for large logits and handles masked (−inf) logits', async () => {
    const xv = [1000, 999, -1000, 1e4, 1e4 - 1, 0, 2, -Infinity, 1];
    const tv = [1, 0, 0];
    for (const labelSmoothing of [0, 0.1]) {
      const opts = { reduction: 'none' as const, labelSmoothing };
      const want = oracle(xv, tv, 3, opts, [1, 1, 1]);
      if (labelSmoothing > 0) expect(want.rows[2]).toBe(Infinity);
      for (const dev of [d.gpu, d.ref]) {
        const x = ops.fromArray(xv, [3, 3], { device: dev, requiresGrad: true });
        const t = ops.fromArray(tv, [3], { device: dev, dtype: 'i32' });
        const loss = ops.crossEntropy(x, t, opts);
        expectClose(await values(loss), want.rows, F32, `${dev.name} ε=${labelSmoothing}`);
        ops.sum(loss).backward();
        expectClose(await values(x.grad!), want.grad, F32, `${dev.name} grad ε=${labelSmoothing}`);
      }
    }
  });

  it('takes f16 and bf16 logits (loss in their dtype, statistics in f32)', async () => {
    const rand = rng(5);
    const round: Record<string, (v: number) => number> = { f16: roundToF16, bf16: roundToBf16 };
    for (const dtype of ['f16', 'bf16'] as DType[]) {
      const xv = Float64Array.from(uniformValues(rand, 6 * 50, -3, 3), round[dtype]!);
      const tv = targetsFor(rand, 6, 50, -100);
      const want = oracle(xv, tv, 50, { reduction: 'none', labelSmoothing: 0.1 });
      const x = ops.fromArray(xv, [6, 50], { device: d.gpu, dtype });
      const t = ops.fromArray(tv, [6], { device: d.gpu, dtype: 'i32' });
      const loss = ops.crossEntropy(x, t, { reduction: 'none', labelSmoothing: 0.1 });
      expect(loss.dtype).toBe(dtype);
      expectClose(await values(loss), want.rows, TOLERANCE[dtype], dtype);
    }
  });

  it('runs more rows than one grid dimension holds (folded 2D grid)', async () => {
    const N = 65_600;
    const C = 3;
    const rand = rng(6);
    const xv = uniformValues(rand, N * C, -2, 2);
    const tv = targetsFor(rand, N, C, -100);
    const x = ops.fromArray(xv, [N, C], { device: d.gpu });
    const t = ops.fromArray(tv, [N], { device: d.gpu, dtype: 'i32' });
    expectClose(
      [await ops.crossEntropy(x, t).item()],
      [oracle(xv, tv, C, {}).reduced],
      F32,
      'mean',
    );
  });

  it('matches the formula on random sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 700 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom('mean' as const, 'sum' as const, 'none' as const),
        fc.integer(),
        async (N, C, labelSmoothing, reduction, seed) => {
          const rand = rng(seed);
          const xv = uniformValues(rand, N * C, -5, 5);
          const tv = targetsFor(rand, N, C, -100, 0.3);
          const opts = { labelSmoothing, reduction };
          const want = oracle(xv, tv, C, opts);
          const x = ops.fromArray(xv, [N, C], { device: d.gpu });
          const t = ops.fromArray(tv, [N], { device: d.gpu, dtype: 'i32' });
          const loss = ops.crossEntropy(x, t, opts);
          const got = reduction === 'none' ? await values(loss) : [await loss.item()];
          expectClose(got, reduction === 'none' ? want.rows : [want.reduced], F32, 'loss');
          for (const z of [x, t, loss]) z.dispose();
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('backward', () => {
  it('passes gradCheck on the float64 reference for every reduction', async () => {
    const rand = rng(11);
    const N = 6;
    const C = 5;
    const tv = Int32Array.from([0, 4, -100, 2, 2, 1]);
    const t = ops.fromArray(tv, [N], { device: d.ref, dtype: 'i32' });
    const x = { values: uniformValues(rand, N * C, -2, 2), shape: [N, C] };
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const labelSmoothing of [0, 0.2]) {
        await gradCheck(d.ref, (xt) => ops.crossEntropy(xt!, t, { reduction, labelSmoothing }), [
          x,
        ]);
      }
    }
    const t3 = ops.fromArray([1, 3, 3, 0], [2, 2], { device: d.ref, dtype: 'i32' });
    await gradCheck(d.ref, (xt) => ops.crossEntropy(xt!, t3, { ignoreIndex: 3 }), [
      { values: uniformValues(rand, 16), shape: [2, 2, 4] },
    ]);
  });

  async function gradOn(
    dev: Device,
    xv: ArrayLike<number>,
    shape: number[],
    tv: Int32Array,
    opts: CrossEntropyOptions,
    upstream: ArrayLike<number> | null,
    dtype: DType = 'f32',
  ): Promise<number[]> {
    const x = ops.fromArray(xv, shape, { device: dev, dtype, requiresGrad: true });
    const t = ops.fromArray(tv, shape.slice(0, -1), { device: dev, dtype: 'i32' });
    const loss = ops.crossEntropy(x, t, opts);
    if (upstream) loss.backward(ops.fromArray(upstream, [...loss.shape], { device: dev, dtype }));
    else loss.backward();
    return values(x.grad!);
  }

  it('WebGPU gradients match the reference and the formula', async () => {
    const rand = rng(12);
    const cases: { shape: number[]; opts: CrossEntropyOptions }[] = [
      { shape: [7, 13], opts: {} },
      { shape: [40, 129], opts: { labelSmoothing: 0.1, reduction: 'sum' } },
      { shape: [3, 4, 9], opts: { labelSmoothing: 0.3, reduction: 'none', ignoreIndex: 2 } },
      { shape: [1, 1], opts: {} },
    ];
    for (const { shape, opts } of cases) {
      const C = shape[shape.length - 1]!;
      const N = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const xv = uniformValues(rand, N * C, -3, 3);
      const tv = targetsFor(rand, N, C, opts.ignoreIndex ?? -100);
      const up = opts.reduction === 'none' ? uniformValues(rand, N) : [0.7];
      const got = await gradOn(d.gpu, xv, shape, tv, opts, up);
      const ref = await gradOn(d.ref, xv, shape, tv, opts, up);
      const want = oracle(xv, tv, C, opts, up).grad;
      expectClose(ref, want, EXACT, `reference [${shape.join(',')}]`);
      expectClose(got, ref, F32, `webgpu [${shape.join(',')}]`);
    }
  });

  it('gradients reach a transposed, half-precision input', async () => {
    const rand = rng(13);
    for (const dtype of ['f16', 'bf16'] as DType[]) {
      const xv = uniformValues(rand, 8 * 20, -2, 2);
      const tv = targetsFor(rand, 8, 20, -100);
      const results: number[][] = [];
      for (const dev of [d.gpu, d.ref]) {
        const x = ops.fromArray(xv, [20, 8], { device: dev, dtype, requiresGrad: true });
        const t = ops.fromArray(tv, [8], { device: dev, dtype: 'i32' });
        ops.crossEntropy(ops.transpose(x), t, { labelSmoothing: 0.1 }).backward();
        results.push(await values(x.grad!));
      }
      expectClose(results[0]!, results[1]!, TOLERANCE[dtype], dtype);
    }
  });

  it('handles GPT-2-wide rows (C = 50257) on WebGPU, forward and backward', async () => {
    const rand = rng(14);
    const N = 3;
    const C = 50257;
    const xv = uniformValues(rand, N * C, -6, 6);
    const tv = Int32Array.from([50256, 0, 31337]);
    const opts = { labelSmoothing: 0.1 };
    const want = oracle(xv, tv, C, opts);
    const x = ops.fromArray(xv, [N, C], { device: d.gpu, requiresGrad: true });
    const t = ops.fromArray(tv, [N], { device: d.gpu, dtype: 'i32' });
    const loss = ops.crossEntropy(x, t, opts);
    expectClose([await loss.item()], [want.reduced], F32, 'loss');
    loss.backward();
    expectClose(await values(x.grad!), want.grad, { atol: 1e-7, rtol: 1e-3 }, 'grad');
  });

  it('frees every temporary: memory is unchanged after forward + backward + dispose', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const x = ops
        .fromArray(uniformValues(rng(1), 12 * 30), [30, 12], { device: dev })
        .requireGrad();
      const t = ops.fromArray(targetsFor(rng(2), 12, 30, -100), [12], {
        device: dev,
        dtype: 'i32',
      });
      const run = (): Promise<void> =>
        scope(async () => {
          const xt = ops.transpose(x);
          const a = ops.crossEntropy(xt, t, { labelSmoothing: 0.1 });
          const b = ops.sum(ops.crossEntropy(xt, t, { reduction: 'none' }));
          const c = ops.crossEntropy(xt, t, { reduction: 'sum' });
          const loss = ops.add(ops.add(a, b), c);
          loss.backward();
          await loss.item();
        });
      await run();
      const before = dev.memory();
      for (let i = 0; i < 3; i++) await run();
      const after = dev.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
      x.dispose();
      t.dispose();
    }
  });
});

describe('validation', () => {
  it('names the op, the argument, what it got and what it expected', () => {
    const x = ops.zeros([2, 3], { device: d.ref });
    const t = ops.zeros([2], { device: d.ref, dtype: 'i32' });
    expect(() => ops.crossEntropy(x, ops.zeros([2], { device: d.ref }))).toThrow(
      'crossEntropy: targets has dtype f32; expected i32 class indices',
    );
    expect(() => ops.crossEntropy(x, ops.zeros([3], { device: d.ref, dtype: 'i32' }))).toThrow(
      "crossEntropy: targets has shape [3]; expected [2] (logits' shape without its last dim)",
    );
    expect(() => ops.crossEntropy(ops.zeros([2, 0], { device: d.ref }), t)).toThrow(
      'crossEntropy: logits has shape [2,0]; expected at least one class in the last dim',
    );
    expect(() => ops.crossEntropy(ops.zeros([2, 3], { device: d.ref, dtype: 'i32' }), t)).toThrow(
      'crossEntropy: logits has dtype i32; expected a float dtype',
    );
    expect(() => ops.crossEntropy(x, t, { labelSmoothing: 1.5 })).toThrow(
      'crossEntropy: labelSmoothing is 1.5; expected a number in [0, 1]',
    );
    expect(() => ops.crossEntropy(x, t, { reduction: 'avg' as unknown as 'mean' })).toThrow(
      "crossEntropy: reduction is avg; expected 'mean', 'sum' or 'none'",
    );
    expect(() => ops.crossEntropy(x, t, { ignoreIndex: 0.5 })).toThrow(
      'crossEntropy: ignoreIndex is 0.5; expected a 32-bit integer',
    );
    expect(() => ops.crossEntropy(x, ops.zeros([2], { device: d.gpu, dtype: 'i32' }))).toThrow(
      /crossEntropy: targets/,
    );
  });
});
