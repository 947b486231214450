// The native SIMD kernels at odd sizes and layouts against the float64 reference,
// threads 1 vs 2 giving identical bits, and the backend's storage: allocator,
// memory growth, read copies, accounting, and a leak-free training loop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device } from '../../device.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { scope } from '../../memory/scope.js';
import * as ops from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import { expectClose, rng, uniformValues } from '../../test-utils/index.js';
import { sizeClass } from './allocator.js';
import type { WasmBackend } from './wasm-backend.js';

let one: Device;
let two: Device;
let ref: Device;

beforeAll(async () => {
  one = await Device.open({ backend: 'wasm', threads: 1 });
  two = await Device.open({ backend: 'wasm', threads: 2 });
  ref = await Device.open({ backend: 'cpu', float64: true });
});
afterAll(() => {
  one.close();
  two.close();
  ref.close();
});

const TOL = { atol: 2e-5, rtol: 2e-4 };

function nativeCount(d: Device, op: string): number {
  return (d.backend as WasmBackend).counts.get(op)?.native ?? 0;
}

/** Runs fn on each device with the same random inputs; returns the outputs' values. */
async function onAll(
  shapes: number[][],
  fn: (...xs: Tensor[]) => Tensor,
  seed: number,
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const device of [one, two, ref]) {
    const rand = rng(seed);
    const values = await scope(async () => {
      const xs = shapes.map((s) =>
        ops.fromArray(
          uniformValues(
            rand,
            s.reduce((a, b) => a * b, 1),
          ),
          s,
          { device },
        ),
      );
      return Float64Array.from(await fn(...xs).toArray());
    });
    out.push(values);
  }
  return out;
}

/** Threads 1 and 2 agree bit for bit and both match the reference. */
async function check(
  what: string,
  op: string,
  shapes: number[][],
  fn: (...xs: Tensor[]) => Tensor,
  seed = 1,
): Promise<void> {
  const before = nativeCount(two, op);
  const [a, b, r] = await onAll(shapes, fn, seed);
  expect(nativeCount(two, op), `${what}: native ${op} kernel`).toBeGreaterThan(before);
  expect(Array.from(b!), `${what}: threads 1 vs 2`).toEqual(Array.from(a!));
  expectClose(a!, r!, TOL, what);
}

describe('wasm SIMD matmul', () => {
  const cases: [string, number[], number[], { transA?: boolean; transB?: boolean }][] = [
    ['1×1×1', [1, 1], [1, 1], {}],
    ['odd 37×53·53×29', [37, 53], [53, 29], {}],
    ['K beyond one packed panel (300)', [13, 300], [300, 21], {}],
    ['N beyond one packed panel (1030)', [5, 7], [7, 1030], {}],
    ['A transposed', [53, 37], [53, 29], { transA: true }],
    ['B transposed', [37, 53], [29, 53], { transB: true }],
    ['both transposed', [53, 37], [29, 53], { transA: true, transB: true }],
    ['batched with a broadcast batch', [3, 17, 9], [9, 10], {}],
    ['batched, both sides', [2, 5, 130, 33], [2, 5, 33, 19], {}],
    ['row vector', [1, 40], [40, 70], {}],
  ];
  for (const [what, sa, sb, opts] of cases) {
    it(what, () => check(what, 'matmul', [sa, sb], (a, b) => ops.matmul(a, b, opts)));
  }
  it('a column slice of A (row stride larger than K)', () =>
    check(
      'sliced A',
      'matmul',
      [
        [19, 40],
        [25, 11],
      ],
      (a, b) => ops.matmul(ops.slice(a, [undefined, { start: 5, end: 30 }]), b),
    ));
  it('a 256³ product across threads matches the reference', () =>
    check(
      '256³',
      'matmul',
      [
        [256, 256],
        [256, 256],
      ],
      (a, b) => ops.matmul(a, b),
    ));
  it('K = 0 gives zeros', async () => {
    const a = ops.zeros([3, 0], { device: two });
    const b = ops.zeros([0, 4], { device: two });
    expect(Array.from(await ops.matmul(a, b).toArray())).toEqual(new Array(12).fill(0));
  });
});

describe('wasm SIMD elementwise and row kernels', () => {
  for (const n of [1, 3, 4, 5, 17, 100003]) {
    it(`unary ops at length ${n}`, async () => {
      for (const op of ['exp', 'tanh', 'silu', 'sigmoid'] as const) {
        await check(`${op}[${n}]`, op, [[n]], (x) => ops[op](ops.mul(x, 6)), n);
      }
      await check(`gelu[${n}]`, 'gelu_tanh', [[n]], (x) => ops.gelu(ops.mul(x, 6), 'tanh'), n);
      await check(`log[${n}]`, 'log', [[n]], (x) => ops.log(ops.add(ops.abs(x), 1e-3)), n);
    });
  }
  it('special values of exp, log and tanh', async () => {
    const v = [
      0,
      -0,
      1e-40,
      -1e-40,
      88.5,
      89,
      -87,
      -104,
      -200,
      Infinity,
      -Infinity,
      NaN,
      1e-8,
      0.6,
      0.65,
    ];
    for (const op of ['exp', 'log', 'tanh'] as const) {
      const got = await ops[op](ops.fromArray(v, [v.length], { device: two })).toArray();
      const want = await ops[op](ops.fromArray(v, [v.length], { device: ref })).toArray();
      // f32 storage: the reference's float64 results rounded to f32, within 2 ulp.
      expectClose(got, Float32Array.from(want), { atol: 1e-37, rtol: 3e-7 }, op);
    }
  });
  it('binary ops: full, scalar, row and column operands at odd sizes', async () => {
    await check(
      'add full',
      'add',
      [
        [3, 7, 5],
        [3, 7, 5],
      ],
      (a, b) => ops.add(a, b),
    );
    await check('sub scalar', 'sub', [[3, 7, 5], []], (a, b) => ops.sub(a, b));
    await check('mul row', 'mul', [[9, 13], [13]], (a, b) => ops.mul(a, b));
    await check(
      'div column',
      'div',
      [
        [9, 13],
        [9, 1],
      ],
      (a, b) => ops.div(a, ops.add(b, 2)),
    );
    await check('row op column', 'maximum', [[9, 1], [13]], (a, b) => ops.maximum(a, b));
    await check('large row broadcast', 'add', [[301, 257], [257]], (a, b) => ops.add(a, b));
  });
  it('reductions over the last, leading and middle axes', async () => {
    await check('sum last', 'sum', [[7, 301]], (x) => ops.sum(x, { axis: -1 }));
    await check('mean leading', 'mean', [[301, 7]], (x) => ops.mean(x, { axis: 0 }));
    await check('max middle', 'max', [[3, 50, 6]], (x) => ops.max(x, { axis: 1 }));
    await check('min last', 'min', [[5, 9]], (x) => ops.min(x, { axis: 1 }));
    await check('sum big', 'sum', [[600, 300]], (x) => ops.sum(x, { axis: -1 }));
    await check('sum leading, 16-column strips', 'sum', [[130, 37]], (x) =>
      ops.sum(x, { axis: 0 }),
    );
    await check('max leading, 16-column strips', 'max', [[2, 70, 48]], (x) =>
      ops.max(x, { axis: 1 }),
    );
  });
  it('softmax and log-softmax forward and backward at odd row lengths', async () => {
    for (const len of [1, 3, 31, 1000]) {
      await check(`softmax ${len}`, 'softmax', [[5, len]], (x) => ops.softmax(ops.mul(x, 5)));
      await check(`log_softmax ${len}`, 'log_softmax', [[5, len]], (x) => ops.logSoftmax(x));
      const grad = (kind: 'softmax' | 'logSoftmax') => (x: Tensor, w: Tensor) => {
        const leaf = x.detach();
        leaf.requiresGrad = true;
        ops.sum(ops.mul(ops[kind](leaf), w)).backward();
        return leaf.grad!;
      };
      await check(
        `softmax grad ${len}`,
        'softmax_grad',
        [
          [5, len],
          [5, len],
        ],
        grad('softmax'),
      );
      await check(
        `log_softmax grad ${len}`,
        'log_softmax_grad',
        [
          [5, len],
          [5, len],
        ],
        grad('logSoftmax'),
      );
    }
  });
  it('layer and RMS norm forward and backward', async () => {
    for (const D of [1, 5, 67]) {
      const grads =
        (kind: 'layer' | 'rms', which: number) => (x: Tensor, w: Tensor, b: Tensor, g: Tensor) => {
          const [lx, lw, lb] = [x, w, b].map((t) => {
            const l = t.detach();
            l.requiresGrad = true;
            return l;
          });
          const y = kind === 'layer' ? ops.layerNorm(lx!, lw, lb) : ops.rmsNorm(lx!, lw);
          ops.sum(ops.mul(y, g)).backward();
          return which === 0 ? y : which === 1 ? lx!.grad! : lw!.grad!;
        };
      const shapes = [[9, D], [D], [D], [9, D]];
      await check(`layer norm ${D}`, 'layer_norm', shapes, grads('layer', 0));
      await check(`layer norm dx ${D}`, 'layer_norm_grad_input', shapes, grads('layer', 1));
      await check(`layer norm dw ${D}`, 'layer_norm_grad_params', shapes, grads('layer', 2));
      await check(`rms norm dx ${D}`, 'rms_norm_grad_input', shapes, grads('rms', 1));
      await check(`rms norm dw ${D}`, 'rms_norm_grad_params', shapes, grads('rms', 2));
    }
  });
  it('cross-entropy forward and backward, threads 1 vs 2', async () => {
    const fn = (x: Tensor, t: Tensor) => {
      const leaf = ops.mul(x, 4).detach();
      leaf.requiresGrad = true;
      const ids = ops.cast(ops.floor(ops.mul(ops.add(t, 1), 25)), 'i32');
      const loss = ops.crossEntropy(leaf, ids, { labelSmoothing: 0.05 });
      loss.backward();
      return ops.concat([ops.reshape(loss, [1]), ops.flatten(leaf.grad!)]);
    };
    await check('cross-entropy', 'cross_entropy_grad', [[33, 50], [33]], fn);
  });
  it('strided copies (transposes) of 32-bit data', async () => {
    await check('transpose', 'copy', [[37, 29]], (x) => ops.contiguous(ops.transpose(x)));
    await check('permute rank 4', 'copy', [[3, 5, 7, 9]], (x) =>
      ops.contiguous(ops.permute(x, [0, 2, 1, 3])),
    );
  });
});

describe('wasm storage', () => {
  it('size classes are 64-byte aligned, four per power of two, never smaller than asked', () => {
    for (const n of [1, 64, 65, 100, 1000, 4097, 1 << 20, (1 << 20) + 1]) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c % 64).toBe(0);
      expect(c).toBeLessThanOrEqual(Math.max(64, n * 1.25 + 64));
    }
  });

  it('reuses released blocks and grows the memory, keeping values across growth', async () => {
    const backend = two.backend as WasmBackend;
    const a = ops.fromArray([1, 2, 3], [3], { device: two });
    const addr = () => (a.storage.handle as unknown as { ptr: number }).ptr;
    const first = addr();
    const before = backend.allocator.memory.buffer.byteLength;
    // 64 MiB more than the memory has forces growth.
    const big = ops.zeros([(before >> 2) + (1 << 24)], { device: two });
    expect(backend.allocator.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(addr()).toBe(first);
    expect(Array.from(await a.toArray())).toEqual([1, 2, 3]);
    const bigBytes = big.storage.byteLength;
    const pooled = two.memory().poolBytes;
    big.dispose();
    expect(two.memory().poolBytes).toBeGreaterThanOrEqual(pooled + bigBytes);
    const again = ops.zeros([(before >> 2) + (1 << 24)], { device: two });
    expect(two.memory().poolBytes).toBe(pooled);
    again.dispose();
    a.dispose();
  });

  it('read() returns a copy that later kernels do not change', async () => {
    const x = ops.fromArray([1, 2, 3, 4], [4], { device: two });
    const got = await x.toArray();
    expect(got.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    ops.full([4], 9, { device: two }).dispose();
    (x.storage.handle as unknown as { data: Float32Array }).data.fill(7);
    expect(Array.from(got)).toEqual([1, 2, 3, 4]);
    x.dispose();
  });

  it('accounts live tensors and bytes as the other backends do', () => {
    const m0 = two.memory();
    const x = ops.zeros([10, 10], { device: two });
    const h = ops.zeros([8], { device: two, dtype: 'f16' });
    const m1 = two.memory();
    expect(m1.liveTensors - m0.liveTensors).toBe(2);
    expect(m1.liveBytes - m0.liveBytes).toBe(400 + 16);
    x.dispose();
    h.dispose();
    const m2 = two.memory();
    expect(m2.liveTensors).toBe(m0.liveTensors);
    expect(m2.liveBytes).toBe(m0.liveBytes);
  });

  it('rejects a bad thread count naming the argument', async () => {
    await expect(Device.open({ backend: 'wasm', threads: 0 })).rejects.toThrow(
      'Device.open: threads is 0; expected an integer from 1 to 256',
    );
  });

  it('trains an MLP with AdamW-style updates without leaking', async () => {
    const device = two;
    const rand = rng(5);
    const param = (shape: number[]) =>
      ops.fromArray(
        uniformValues(
          rand,
          shape.reduce((a, b) => a * b, 1),
          -0.3,
          0.3,
        ),
        shape,
        {
          device,
          requiresGrad: true,
        },
      );
    const w1 = param([16, 32]);
    const b1 = param([32]);
    const w2 = param([32, 5]);
    const x = ops.fromArray(uniformValues(rand, 64 * 16), [64, 16], { device });
    const y = ops.fromArray(
      Array.from({ length: 64 }, (_, i) => i % 5),
      [64],
      { device, dtype: 'i32' },
    );
    const losses: number[] = [];
    let steady: ReturnType<Device['memory']> | null = null;
    for (let step = 0; step < 12; step++) {
      const loss = await scope(async () => {
        const h = ops.gelu(ops.layerNorm(ops.add(ops.matmul(x, w1), b1)), 'tanh');
        const l = ops.crossEntropy(ops.matmul(h, w2), y);
        l.backward();
        noGrad(() => {
          for (const p of [w1, b1, w2]) {
            const next = ops.sub(p, ops.mul(p.grad!, 0.5));
            (p.storage.handle as unknown as { data: Float32Array }).data.set(
              (next.storage.handle as unknown as { data: Float32Array }).data,
            );
            p.setGrad(null);
          }
        });
        return l.item();
      });
      losses.push(loss);
      if (step === 1) steady = device.memory();
      if (step > 1) {
        const m = device.memory();
        expect(m.liveTensors).toBe(steady!.liveTensors);
        expect(m.liveBytes).toBe(steady!.liveBytes);
        expect(m.poolBytes).toBe(steady!.poolBytes);
      }
    }
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
    for (const t of [w1, b1, w2, x, y]) t.dispose();
  });
});
