import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { roundToBf16, roundToF16 } from '../half.js';
import { scope } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';
import {
  TOLERANCE,
  expectClose,
  gradCheck,
  onEach,
  openTestDevices,
  rng,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';
import * as ops from './index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The direct float64 formula: (x − mean)·rsqrt(var + eps)·w + b per row (mean 0 for RMS). */
function normOracle(
  kind: 'layer' | 'rms',
  x: ArrayLike<number>,
  D: number,
  w: ArrayLike<number> | null,
  b: ArrayLike<number> | null,
  eps: number,
): Float64Array {
  const out = new Float64Array(x.length);
  const rows = D === 0 ? 0 : x.length / D;
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    if (kind === 'layer') {
      for (let c = 0; c < D; c++) mean += x[r * D + c]!;
      mean /= D;
    }
    let sq = 0;
    for (let c = 0; c < D; c++) sq += (x[r * D + c]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(sq / D + eps);
    for (let c = 0; c < D; c++) {
      out[r * D + c] = (x[r * D + c]! - mean) * rstd * (w ? w[c]! : 1) + (b ? b[c]! : 0);
    }
  }
  return out;
}

type Norm = (x: Tensor, w: Tensor | null, b: Tensor | null) => Tensor;
const LAYER: Norm = (x, w, b) => ops.layerNorm(x, w, b);
const RMS: Norm = (x, w) => ops.rmsNorm(x, w);
const KINDS = [
  ['layerNorm', 'layer', LAYER, 1e-5],
  ['rmsNorm', 'rms', RMS, 1e-6],
] as const;

describe('forward matches the float64 formula on WebGPU and the reference', () => {
  const shapes = [[3, 5], [2, 3, 64], [1, 1], [4, 257], [0, 7], [3, 0], [7], [2, 1000]];
  for (const [name, kind, fn, eps] of KINDS) {
    it(`${name} (f32, with and without affine parameters)`, async () => {
      const rand = rng(11);
      for (const shape of shapes) {
        const D = shape[shape.length - 1]!;
        const xv = uniformValues(rand, sizeOf(shape), -3, 2);
        const wv = uniformValues(rand, D, 0.5, 1.5);
        const bv = uniformValues(rand, D, -1, 1);
        for (const affine of [true, false]) {
          const want = normOracle(
            kind,
            xv,
            D,
            affine ? wv : null,
            affine && kind === 'layer' ? bv : null,
            eps,
          );
          for (const dev of [d.gpu, d.ref]) {
            const x = ops.fromArray(xv, shape, { device: dev });
            const w = affine ? ops.fromArray(wv, [D], { device: dev }) : null;
            const b = affine ? ops.fromArray(bv, [D], { device: dev }) : null;
            const y = fn(x, w, b);
            expect(y.shape).toEqual(shape);
            expect(y.dtype).toBe('f32');
            const tol = dev === d.ref ? { atol: 1e-12, rtol: 1e-12 } : { atol: 1e-5, rtol: 1e-4 };
            expectClose(await values(y), want, tol, `${name} ${dev.name} [${shape.join(',')}]`);
          }
        }
      }
    });
  }

  it('reads non-contiguous views (transposed x, strided rows, strided weight)', async () => {
    const rand = rng(5);
    const R = 9;
    const D = 70;
    const xv = uniformValues(rand, R * D);
    const wv = uniformValues(rand, 2 * D, 0.5, 1.5);
    const bv = uniformValues(rand, D);
    for (const [name, kind, fn, eps] of KINDS) {
      for (const dev of [d.gpu, d.ref]) {
        // xT is [R, D] viewing a [D, R] array; every other row of it, then the weight's even entries.
        const base = ops.fromArray(xv, [D, R], { device: dev });
        const xT = ops.transpose(base);
        const xs = ops.slice(xT, [{ start: 1, step: 2 }]);
        const w = ops.slice(ops.fromArray(wv, [2 * D], { device: dev }), [{ step: 2 }]);
        const b = ops.fromArray(bv, [D], { device: dev });
        const y = fn(xs, w, b);
        const dense = await values(ops.contiguous(xs));
        const wd = await values(w);
        const want = normOracle(kind, dense, D, wd, kind === 'layer' ? bv : null, eps);
        expectClose(await values(y), want, { atol: 1e-5, rtol: 1e-4 }, `${name} ${dev.name}`);
      }
    }
  });

  it('layerNorm stays accurate on rows with a large mean (two-pass statistics)', async () => {
    const rand = rng(3);
    const rows = 6;
    const D = 1024;
    // Mean 1e4, spread 1: E[x²] − E[x]² in f32 would lose every digit of the variance.
    const xv = Float64Array.from(uniformValues(rand, rows * D), (v) => Math.fround(1e4 + v));
    const want = normOracle('layer', xv, D, null, null, 1e-5);
    const y = ops.layerNorm(ops.fromArray(xv, [rows, D], { device: d.gpu }));
    expectClose(await values(y), want, { atol: 2e-3, rtol: 2e-3 }, 'large mean');
  });

  it('takes f16 and bf16 inputs, computing statistics in f32 (vs the reference)', async () => {
    const rand = rng(8);
    const shape = [5, 96];
    const D = 96;
    const round: Record<string, (v: number) => number> = { f16: roundToF16, bf16: roundToBf16 };
    // One dtype per norm keeps the number of shaders lavapipe must compile down.
    const pairs = [
      ['f16', KINDS[0]],
      ['bf16', KINDS[1]],
    ] as const;
    for (const [dtype, [name, kind, fn, eps]] of pairs) {
      const xv = Float64Array.from(uniformValues(rand, sizeOf(shape), -2, 2), round[dtype]!);
      const wv = Float64Array.from(uniformValues(rand, D, 0.5, 1.5), round[dtype]!);
      const bv = Float64Array.from(uniformValues(rand, D, -1, 1), round[dtype]!);
      {
        const [xg, xr] = onEach([d.gpu, d.ref], xv, shape, dtype);
        const [wg, wr] = onEach([d.gpu, d.ref], wv, [D], dtype);
        const [bg, br] = onEach([d.gpu, d.ref], bv, [D], dtype);
        const got = fn(xg!, wg!, bg!);
        const ref = fn(xr!, wr!, br!);
        expect(got.dtype).toBe(dtype);
        const tol = TOLERANCE[dtype];
        expectClose(await values(got), await values(ref), tol, `${name} ${dtype} vs reference`);
        // The unrounded formula agrees within the output's own rounding.
        const want = normOracle(kind, xv, D, wv, kind === 'layer' ? bv : null, eps);
        expectClose(await values(got), want, tol, `${name} ${dtype} vs formula`);
      }
    }
  });

  it('runs more rows than one grid dimension holds (folded 2D grid)', async () => {
    const rows = 65_600;
    const D = 2;
    const xv = uniformValues(rng(9), rows * D, -2, 2);
    const x = ops.fromArray(xv, [rows, D], { device: d.gpu });
    expectClose(await values(ops.layerNorm(x)), normOracle('layer', xv, D, null, null, 1e-5), {
      atol: 1e-4,
      rtol: 1e-4,
    });
    x.dispose();
  });

  it('matches the formula on random shapes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer(),
        async (rows, D, seed) => {
          const rand = rng(seed);
          const xv = uniformValues(rand, rows * D, -4, 4);
          const wv = uniformValues(rand, D, -1, 1);
          const bv = uniformValues(rand, D, -1, 1);
          const x = ops.fromArray(xv, [rows, D], { device: d.gpu });
          const w = ops.fromArray(wv, [D], { device: d.gpu });
          const b = ops.fromArray(bv, [D], { device: d.gpu });
          const tol = { atol: 2e-5, rtol: 1e-4 };
          expectClose(
            await values(ops.layerNorm(x, w, b)),
            normOracle('layer', xv, D, wv, bv, 1e-5),
            tol,
            'layerNorm',
          );
          expectClose(
            await values(ops.rmsNorm(x, w, { eps: 1e-3 })),
            normOracle('rms', xv, D, wv, null, 1e-3),
            tol,
            'rmsNorm',
          );
          for (const t of [x, w, b]) t.dispose();
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('backward', () => {
  it('passes gradCheck on the float64 reference', async () => {
    const rand = rng(21);
    const shape = [3, 5];
    const x = { values: uniformValues(rand, 15, -2, 2), shape };
    const w = { values: uniformValues(rand, 5, 0.5, 1.5), shape: [5] };
    const b = { values: uniformValues(rand, 5), shape: [5] };
    await gradCheck(d.ref, (xt, wt, bt) => ops.layerNorm(xt!, wt, bt, { eps: 1e-3 }), [x, w, b]);
    await gradCheck(d.ref, (xt) => ops.layerNorm(xt!), [x]);
    await gradCheck(d.ref, (xt, wt) => ops.rmsNorm(xt!, wt, { eps: 1e-3 }), [x, w]);
    await gradCheck(d.ref, (xt) => ops.rmsNorm(xt!), [
      { values: uniformValues(rand, 24, -2, 2), shape: [2, 3, 4] },
    ]);
  });

  /** Runs fn on leaves made on `dev`, back-propagates `gv`, and returns the gradients. */
  async function grads(
    dev: Device,
    fn: Norm,
    xShape: number[],
    xv: Float64Array,
    wv: Float64Array | null,
    bv: Float64Array | null,
    gv: Float64Array,
    need: [boolean, boolean, boolean],
    dtype: DType = 'f32',
  ): Promise<(number[] | null)[]> {
    const D = xShape[xShape.length - 1]!;
    const x = ops.fromArray(xv, xShape, { device: dev, dtype, requiresGrad: need[0] });
    const w = wv ? ops.fromArray(wv, [D], { device: dev, dtype, requiresGrad: need[1] }) : null;
    const b = bv ? ops.fromArray(bv, [D], { device: dev, dtype, requiresGrad: need[2] }) : null;
    const y = fn(x, w, b);
    y.backward(ops.fromArray(gv, xShape, { device: dev, dtype }));
    return Promise.all([x, w, b].map((t) => (t?.grad ? values(t.grad) : null)));
  }

  for (const [name, kind, fn] of KINDS) {
    it(`${name}: WebGPU gradients match the reference (one and many row chunks)`, async () => {
      const rand = rng(31);
      const cases: [number[], [boolean, boolean, boolean]][] = [
        [
          [2, 3, 8],
          [true, true, true],
        ],
        [
          [300, 33],
          [true, true, true],
        ],
        [
          [17, 257],
          [true, true, true],
        ],
        [
          [1100, 5],
          [false, true, true],
        ],
        [
          [6, 40],
          [true, false, true],
        ],
        [
          [0, 12],
          [true, true, true],
        ],
      ];
      for (const [shape, need] of cases) {
        const D = shape[shape.length - 1]!;
        const xv = uniformValues(rand, sizeOf(shape), -2, 2);
        const wv = uniformValues(rand, D, 0.5, 1.5);
        const bv = kind === 'layer' ? uniformValues(rand, D) : null;
        const gv = uniformValues(rand, sizeOf(shape));
        const got = await grads(d.gpu, fn, shape, xv, wv, bv, gv, need);
        const want = await grads(d.ref, fn, shape, xv, wv, bv, gv, need);
        got.forEach((g, i) => {
          expect(g === null, `${name} grad ${i} presence`).toBe(want[i] === null);
          if (g)
            expectClose(g, want[i]!, { atol: 1e-4, rtol: 1e-3 }, `${name} [${shape}] grad ${i}`);
        });
        if (shape[0] === 0) expect(got[1]).toEqual(new Array(D).fill(0));
      }
    });
  }

  it('gradients through a transposed input and a broadcast upstream gradient', async () => {
    const rand = rng(41);
    const xv = uniformValues(rand, 6 * 10);
    const wv = uniformValues(rand, 6, 0.5, 1.5);
    const results: number[][][] = [];
    for (const dev of [d.gpu, d.ref]) {
      const x = ops.fromArray(xv, [6, 10], { device: dev, requiresGrad: true });
      const w = ops.fromArray(wv, [6], { device: dev, requiresGrad: true });
      // sum() sends back a stride-0 gradient; the transposed view makes x's rows strided.
      const loss = ops.sum(
        ops.mul(ops.rmsNorm(ops.transpose(x), w), ops.layerNorm(ops.transpose(x))),
      );
      loss.backward();
      results.push([await values(x.grad!), await values(w.grad!)]);
    }
    expectClose(results[0]![0]!, results[1]![0]!, { atol: 1e-4, rtol: 1e-3 }, 'dx');
    expectClose(results[0]![1]!, results[1]![1]!, { atol: 1e-4, rtol: 1e-3 }, 'dw');
  });

  it('f16 and bf16 gradients match the reference', async () => {
    const rand = rng(51);
    const shape = [20, 48];
    // The other pairing of dtype and norm than the forward test.
    const pairs = [
      ['f16', KINDS[1]],
      ['bf16', KINDS[0]],
    ] as const;
    for (const [dtype, [name, , fn]] of pairs) {
      const xv = uniformValues(rand, sizeOf(shape), -2, 2);
      const wv = uniformValues(rand, 48, 0.5, 1.5);
      const bv = uniformValues(rand, 48);
      const gv = uniformValues(rand, sizeOf(shape));
      {
        const need: [boolean, boolean, boolean] = [true, true, true];
        const got = await grads(d.gpu, fn, shape, xv, wv, bv, gv, need, dtype);
        const want = await grads(d.ref, fn, shape, xv, wv, bv, gv, need, dtype);
        // dweight sums 20 rows of rounded terms: allow the rounding of the sum's size.
        const tol = { atol: 4 * TOLERANCE[dtype].atol, rtol: 2 * TOLERANCE[dtype].rtol };
        got.forEach((g, i) => {
          if (g) expectClose(g, want[i]!, tol, `${name} ${dtype} grad ${i}`);
        });
      }
    }
  });

  it('frees every temporary: memory is unchanged after forward + backward + dispose', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const x = ops
        .fromArray(uniformValues(rng(1), 40 * 24), [40, 24], { device: dev })
        .requireGrad();
      const w = ops.ones([24], { device: dev }).requireGrad();
      const b = ops.zeros([24], { device: dev }).requireGrad();
      const run = (): Promise<void> =>
        scope(async () => {
          const y1 = ops.layerNorm(ops.transpose(ops.reshape(x, [24, 40])), null, null);
          const y2 = ops.layerNorm(x, w, b);
          const y3 = ops.rmsNorm(x, w);
          const loss = ops.sum(ops.add(ops.mul(y2, y3), ops.sum(y1)));
          loss.backward();
          await loss.item();
        });
      await run();
      const before = dev.memory();
      for (let i = 0; i < 3; i++) await run();
      const after = dev.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
      for (const t of [x, w, b]) t.dispose();
    }
  });
});

describe('validation', () => {
  it('names the op, the argument, what it got and what it expected', () => {
    const x = ops.zeros([2, 3], { device: d.ref });
    expect(() => ops.layerNorm(x, ops.zeros([4], { device: d.ref }))).toThrow(
      "layerNorm: weight has shape [4]; expected [3] (x's last dim)",
    );
    expect(() => ops.layerNorm(x, null, ops.zeros([3, 1], { device: d.ref }))).toThrow(
      'layerNorm: bias has shape [3,1]; expected [3]',
    );
    expect(() => ops.rmsNorm(ops.zeros([2, 3], { device: d.ref, dtype: 'i32' }))).toThrow(
      'rmsNorm: x has dtype i32; expected a float dtype',
    );
    expect(() => ops.rmsNorm(ops.zeros([], { device: d.ref }))).toThrow(
      'rmsNorm: x has shape []; expected at least one dim',
    );
    expect(() => ops.layerNorm(x, null, null, { eps: -1 })).toThrow(
      'layerNorm: eps is -1; expected a finite number >= 0',
    );
    expect(() => ops.rmsNorm(x, ops.ones([3], { device: d.gpu }))).toThrow(/rmsNorm: weight/);
  });
});
