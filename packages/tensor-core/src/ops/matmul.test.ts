import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../backends/webgpu/webgpu-backend.js';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { roundToBf16, roundToF16 } from '../half.js';
import { emptyTensor, viewOf } from '../execute.js';
import { scope } from '../memory/scope.js';
import { getKernel } from '../registry.js';
import type { Tensor } from '../tensor.js';
import {
  expectClose,
  gradCheck,
  openTestDevices,
  rng,
  TOLERANCE,
  uniformValues,
  values,
  type TestDevices,
} from '../test-utils/index.js';
import * as ops from './index.js';
import { matmul, type MatmulOptions } from './matmul.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

/** f32 products summed over K ≤ ~130 values in [-1, 1]: a few ulps of the row's magnitude. */
const F32 = { atol: 5e-5, rtol: 1e-4 };

/** Direct definition of a 2-D product (the test's own oracle for the reference kernel). */
function naive(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

function rows(vals: ArrayLike<number>, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => vals[i * c + j]!));
}

const sizeOf = (shape: number[]): number => shape.reduce((n, v) => n * v, 1);

/** Runs `build` on fresh inputs made from the same values on WebGPU and the reference; compares the outputs. */
async function compare(
  shapes: number[][],
  build: (...xs: Tensor[]) => Tensor,
  seed: number,
  tol = F32,
  dtype: DType = 'f32',
): Promise<number[]> {
  const rand = rng(seed);
  const round = dtype === 'f16' ? roundToF16 : dtype === 'bf16' ? roundToBf16 : (v: number) => v;
  const inputs = shapes.map((s) => Array.from(uniformValues(rand, sizeOf(s)), round));
  const run = async (device: Device): Promise<{ vals: number[]; shape: number[] }> =>
    scope(async () => {
      const xs = inputs.map((v, i) => ops.fromArray(v, shapes[i]!, { device, dtype }));
      const y = build(...xs);
      return { vals: await values(y), shape: [...y.shape] };
    });
  const g = await run(d.gpu);
  const r = await run(d.ref);
  expect(g.shape).toEqual(r.shape);
  expectClose(g.vals, r.vals, tol, `shapes ${JSON.stringify(shapes)}`);
  return r.vals;
}

describe('matmul reference kernel', () => {
  it('matches a direct triple loop, including a transposed view and a broadcast batch', async () => {
    const rand = rng(1);
    const av = uniformValues(rand, 2 * 3 * 4);
    const bv = uniformValues(rand, 5 * 4);
    await scope(async () => {
      const a = ops.fromArray(av, [2, 3, 4], { device: d.ref });
      const bt = ops.fromArray(bv, [5, 4], { device: d.ref });
      // b = btᵀ, read through strides; batch dim of a broadcasts against b's absent one.
      const got = await values(matmul(a, ops.transpose(bt)));
      const bt2 = rows(bv, 5, 4);
      const bT = bt2[0]!.map((_, j) => bt2.map((r) => r[j]!));
      const want = [0, 1].flatMap((t) =>
        naive(rows(av.slice(t * 12, t * 12 + 12), 3, 4), bT).flat(),
      );
      expectClose(got, want, { atol: 1e-12, rtol: 1e-12 });
    });
  });

  it('promotes and squeezes 1-D operands like torch.matmul', async () => {
    await scope(async () => {
      const v = ops.tensor([1, 2, 3], { device: d.ref });
      const m = ops.tensor(
        [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
        { device: d.ref },
      );
      const vm = matmul(v, m);
      expect(vm.shape).toEqual([2]);
      expect(await values(vm)).toEqual([4, 5]);
      const mv = matmul(m, ops.tensor([2, 3], { device: d.ref }));
      expect(mv.shape).toEqual([3]);
      expect(await values(mv)).toEqual([2, 3, 5]);
      const dot = matmul(v, v);
      expect(dot.shape).toEqual([]);
      expect(await dot.item()).toBe(14);
      const batched = matmul(
        ops.zeros([4, 2, 3], { device: d.ref }),
        ops.tensor([1, 1, 1], { device: d.ref }),
      );
      expect(batched.shape).toEqual([4, 2]);
      const vb = matmul(v, ops.ones([4, 3, 2], { device: d.ref }));
      expect(vb.shape).toEqual([4, 2]);
      expect(await values(vb)).toEqual(new Array(8).fill(6));
    });
  });
});

describe('matmul on WebGPU matches the float64 reference', () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [7, 33, 65],
    [65, 129, 33],
    [129, 7, 1],
    [1, 65, 129],
    [33, 1, 7],
  ];
  for (const [m, k, n] of sizes) {
    it(`[${m},${k}] @ [${k},${n}] plain, transA, transB and both`, async () => {
      await compare(
        [
          [m, k],
          [k, n],
        ],
        (a, b) => matmul(a, b),
        m * 7 + n,
      );
      await compare(
        [
          [k, m],
          [k, n],
        ],
        (a, b) => matmul(a, b, { transA: true }),
        m + 3,
      );
      await compare(
        [
          [m, k],
          [n, k],
        ],
        (a, b) => matmul(a, b, { transB: true }),
        n + 5,
      );
      await compare(
        [
          [k, m],
          [n, k],
        ],
        (a, b) => matmul(a, b, { transA: true, transB: true }),
        k + 9,
      );
    });
  }

  it('reads transposed views (transpose(b), permuted batches) in place', async () => {
    await compare(
      [
        [3, 40, 9],
        [3, 17, 40],
      ],
      (a, b) => matmul(ops.transpose(a), ops.transpose(b)),
      11,
    );
    // Batch dims permuted: the batch strides are not row-major.
    await compare(
      [
        [5, 2, 7, 6],
        [2, 5, 6, 3],
      ],
      (a, b) => matmul(ops.permute(a, [1, 0, 2, 3]), b),
      12,
    );
    // transpose(b) together with transB cancels to b itself.
    await compare(
      [
        [6, 10],
        [10, 4],
      ],
      (a, b) => matmul(a, ops.transpose(b), { transB: true }),
      13,
    );
  });

  it('transposed operands cost no copy: the output is the only allocation', () => {
    scope(() => {
      for (const device of [d.gpu, d.ref]) {
        const a = ops.zeros([2, 6, 5], { device });
        const b = ops.zeros([4, 5], { device });
        const count = (fn: () => Tensor): number => {
          const before = device.memory().allocations;
          fn();
          return device.memory().allocations - before;
        };
        expect(count(() => matmul(ops.transpose(a), b, { transA: true, transB: true }))).toBe(1);
        expect(count(() => matmul(a, b, { transB: true }))).toBe(1);
        expect(
          count(() =>
            matmul(ops.expand(ops.slice(a, [{ end: 1 }]), [3, 6, 5]), ops.transpose(b, 0, 1)),
          ),
        ).toBe(1);
        // A stepped slice in both dims is copied once, then read in place.
        expect(
          count(() =>
            matmul(
              ops.slice(a, [undefined, { step: 2 }, { step: 2 }]),
              ops.zeros([3, 2], { device }),
            ),
          ),
        ).toBe(3);
      }
    });
  });

  it('copies operands whose inner layout is neither row- nor column-major (stepped slices)', async () => {
    await compare(
      [
        [14, 18],
        [9, 10],
      ],
      (a, b) =>
        matmul(ops.slice(a, [{ step: 2 }, { step: 2 }]), ops.slice(b, [undefined, { start: 1 }])),
      14,
    );
  });

  it('broadcasts batch dims, including stride-0 expanded operands', async () => {
    await compare(
      [
        [2, 1, 5, 6],
        [3, 6, 7],
      ],
      (a, b) => matmul(a, b),
      15,
    );
    await compare(
      [
        [5, 6],
        [4, 2, 6, 3],
      ],
      (a, b) => matmul(a, b),
      16,
    );
    await compare(
      [
        [1, 5, 6],
        [6, 7],
      ],
      (a, b) => matmul(ops.expand(a, [4, 5, 6]), b),
      17,
    );
    await compare([[6], [2, 3, 6, 4]], (a, b) => matmul(a, b), 18);
    await compare([[2, 3, 6, 4], [4]], (a, b) => matmul(a, b), 19);
    await compare([[9], [9]], (a, b) => matmul(a, b), 20);
  });

  it('K = 0 gives zeros; empty M, N or batch give empty results', async () => {
    const zeros = await compare(
      [
        [3, 0],
        [0, 4],
      ],
      (a, b) => matmul(a, b),
      21,
    );
    expect(zeros).toEqual(new Array(12).fill(0));
    await compare(
      [
        [2, 0, 3],
        [2, 3, 4],
      ],
      (a, b) => matmul(a, b),
      22,
    );
    await compare(
      [
        [0, 5, 3],
        [3, 4],
      ],
      (a, b) => matmul(a, b),
      23,
    );
    await compare(
      [
        [5, 3],
        [3, 0],
      ],
      (a, b) => matmul(a, b),
      24,
    );
  });

  it('16-bit inputs are converted in the kernel and accumulate in f32', async () => {
    // Inputs are exactly representable; the error is the f32 sum and the final rounding.
    await compare(
      [
        [33, 20],
        [20, 17],
      ],
      (a, b) => matmul(a, b, { transB: false }),
      25,
      TOLERANCE.f16,
      'f16',
    );
    await compare(
      [
        [20, 33],
        [17, 20],
      ],
      (a, b) => matmul(a, b, { transA: true, transB: true }),
      26,
      TOLERANCE.bf16,
      'bf16',
    );
    // Mixed f16 @ f32 promotes to f32.
    await compare(
      [
        [5, 6],
        [6, 3],
      ],
      (a, b) => matmul(a, ops.cast(b, 'f32')),
      27,
      TOLERANCE.f16,
      'f16',
    );
  });

  it('a batch larger than one grid dimension is folded into grid y', async () => {
    // Real adapters allow 65535 workgroups per dimension; a view of the backend with a limit of 3
    // exercises the same folding on 7 small matrices (9 batch slots, 2 of them idle).
    const backend = d.gpu.backend as WebGpuBackend;
    const limited = new Proxy(backend, {
      get(target, key) {
        if (key === 'limits') return { maxComputeWorkgroupsPerDimension: 3 };
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const rand = rng(28);
    const [av, bv] = [uniformValues(rand, 7 * 5 * 3), uniformValues(rand, 7 * 3 * 4)];
    const want = await scope(async () =>
      values(
        matmul(
          ops.fromArray(av, [7, 5, 3], { device: d.ref }),
          ops.fromArray(bv, [7, 3, 4], { device: d.ref }),
        ),
      ),
    );
    await scope(async () => {
      const a = ops.fromArray(av, [7, 5, 3], { device: d.gpu });
      const b = ops.fromArray(bv, [7, 3, 4], { device: d.gpu });
      const out = emptyTensor(d.gpu, [7, 5, 4], 'f32');
      getKernel('matmul', 'webgpu')(limited, [viewOf(a), viewOf(b)], [viewOf(out)], {});
      expectClose(await values(out), want, F32);
      // Past the folded limit the kernel says so instead of dispatching a wrong grid.
      const big = emptyTensor(d.gpu, [7, 200, 4], 'f32');
      const a2 = ops.zeros([7, 200, 3], { device: d.gpu });
      expect(() =>
        getKernel('matmul', 'webgpu')(limited, [viewOf(a2), viewOf(b)], [viewOf(big)], {}),
      ).toThrow(/workgroups; this adapter allows 3 per dimension/);
    });
  });

  it('random shapes, transposes and batch broadcasts (property)', async () => {
    const dim = fc.integer({ min: 1, max: 70 });
    await fc.assert(
      fc.asyncProperty(
        dim,
        dim,
        dim,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<[number[], number[]]>(
          [[], []],
          [[3], []],
          [[2, 1], [3]],
          [[1], [2]],
          [[2], [2]],
        ),
        fc.integer({ min: 0, max: 1e6 }),
        async (m, k, n, transA, transB, [ba, bb], seed) => {
          const opts: MatmulOptions = { transA, transB };
          const aShape = [...ba, ...(transA ? [k, m] : [m, k])];
          const bShape = [...bb, ...(transB ? [n, k] : [k, n])];
          await compare([aShape, bShape], (a, b) => matmul(a, b, opts), seed);
        },
      ),
      { numRuns: 12, seed: 42 },
    );
  });
});

describe('matmul errors name the argument', () => {
  it('rejects mismatched inner dims, unbroadcastable batches, integers and scalars', () => {
    scope(() => {
      const a = ops.zeros([3, 5], { device: d.ref });
      expect(() => matmul(a, ops.zeros([3, 4], { device: d.ref }))).toThrow(
        "matmul: b has shape [3,4]; expected its dim -2 to be 5 (a's last dim, a has shape [3,5])",
      );
      expect(() => matmul(a, ops.zeros([4, 3], { device: d.ref }), { transB: true })).toThrow(
        /expected its dim -1 \(transB\) to be 5/,
      );
      expect(() =>
        matmul(ops.zeros([2, 3, 5], { device: d.ref }), ops.zeros([4, 5, 1], { device: d.ref })),
      ).toThrow(/batch dim -1 is 2 in a and 4 in b/);
      expect(() => matmul(ops.zeros([2, 2], { device: d.ref, dtype: 'i32' }), a)).toThrow(
        /a has dtype i32; expected f32, f16 or bf16/,
      );
      expect(() => matmul(ops.scalar(1, { device: d.ref }), a)).toThrow(/a is a scalar/);
      expect(() => matmul(ops.zeros([5], { device: d.ref }), a, { transA: true })).toThrow(
        /transA needs a of rank 2/,
      );
    });
  });
});

/** A matmul case for gradients: the operand shapes and how to call matmul. */
const GRAD_CASES: { name: string; shapes: number[][]; fn: (a: Tensor, b: Tensor) => Tensor }[] = [
  {
    name: '2-D',
    shapes: [
      [3, 4],
      [4, 5],
    ],
    fn: (a, b) => matmul(a, b),
  },
  {
    name: 'transA',
    shapes: [
      [4, 3],
      [4, 5],
    ],
    fn: (a, b) => matmul(a, b, { transA: true }),
  },
  {
    name: 'transB',
    shapes: [
      [3, 4],
      [5, 4],
    ],
    fn: (a, b) => matmul(a, b, { transB: true }),
  },
  {
    name: 'transA+transB',
    shapes: [
      [4, 3],
      [5, 4],
    ],
    fn: (a, b) => matmul(a, b, { transA: true, transB: true }),
  },
  {
    name: 'transposed view',
    shapes: [
      [3, 4],
      [5, 4],
    ],
    fn: (a, b) => matmul(a, ops.transpose(b)),
  },
  {
    name: 'broadcast batch',
    shapes: [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    fn: (a, b) => matmul(a, b),
  },
  {
    name: 'broadcast batch, transB',
    shapes: [
      [2, 3, 4],
      [1, 5, 4],
    ],
    fn: (a, b) => matmul(a, b, { transB: true }),
  },
  { name: '1-D @ batched', shapes: [[4], [2, 4, 3]], fn: (a, b) => matmul(a, b) },
  { name: 'batched @ 1-D', shapes: [[2, 3, 4], [4]], fn: (a, b) => matmul(a, b) },
  { name: '1-D @ 1-D', shapes: [[5], [5]], fn: (a, b) => matmul(a, b) },
];

describe('matmul backward', () => {
  for (const c of GRAD_CASES) {
    it(`${c.name}: finite differences on the reference, and WebGPU matches`, async () => {
      const rand = rng(c.name.length * 13);
      const inputs = c.shapes.map((shape) => ({
        values: Array.from(uniformValues(rand, sizeOf(shape))),
        shape,
      }));
      await gradCheck(d.ref, c.fn, inputs, { atol: 1e-6, rtol: 1e-5 });
      const grads = await Promise.all(
        [d.gpu, d.ref].map((device) =>
          scope(async () => {
            const [a, b] = inputs.map((x) =>
              ops.fromArray(x.values, x.shape, { device, requiresGrad: true }),
            );
            const w = ops.fromArray(
              uniformValues(rng(5), sizeOf([...c.fn(a!, b!).shape])),
              [...c.fn(a!, b!).shape],
              { device },
            );
            ops.sum(ops.mul(c.fn(a!, b!), w)).backward();
            return [await values(a!.grad!), await values(b!.grad!)];
          }),
        ),
      );
      expectClose(grads[0]![0]!, grads[1]![0]!, F32, 'dA');
      expectClose(grads[0]![1]!, grads[1]![1]!, F32, 'dB');
    });
  }

  it('frees every temporary: forward + backward + dispose leaves memory unchanged', async () => {
    for (const device of [d.gpu, d.ref]) {
      const before = device.memory();
      await scope(async () => {
        const a = ops.fromArray(uniformValues(rng(3), 2 * 3 * 4), [2, 3, 4], {
          device,
          requiresGrad: true,
        });
        const b = ops.fromArray(uniformValues(rng(4), 5 * 4), [5, 4], {
          device,
          requiresGrad: true,
        });
        const v = ops.fromArray(uniformValues(rng(6), 4), [4], { device, requiresGrad: true });
        for (let i = 0; i < 2; i++) {
          const y = matmul(a, b, { transB: true });
          const z = matmul(y, ops.slice(b, [undefined, { start: 1 }]));
          const mv = matmul(a, v);
          ops.add(ops.sum(z), ops.sum(mv)).backward();
        }
        await values(a.grad!);
      });
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});
