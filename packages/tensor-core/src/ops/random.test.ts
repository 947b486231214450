import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { scope } from '../memory/scope.js';
import { philox4x32 } from '../random/philox.js';
import type { Tensor } from '../tensor.js';
import {
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
import { Generator } from './random.js';

let d: TestDevices;
let all: Device[];
beforeAll(async () => {
  d = await openTestDevices();
  all = [d.gpu, d.ref, d.cpu];
});
afterAll(() => d.close());

/**
 * randn/normal across backends: the GPU computes ln, sin and cos in f32 (its own
 * polynomials), the reference in float64. Measured on lavapipe over 6e5 samples: worst
 * |Δ| 4.7e-7, worst |Δ|/(1 + |z|) 1.4e-7.
 */
const NORMAL_TOL = { atol: 1e-6, rtol: 1e-6 };
/** uniform(low, high) rounds (high − low)·u and the sum in f32 on the GPU. */
const AFFINE_TOL = { atol: 1e-6, rtol: 1e-6 };

/** Random123 `tests/kat_vectors`, "philox4x32 10" lines: counter words, key words, output words. */
const KAT: [number[], number[], number[]][] = [
  [
    [0, 0, 0, 0],
    [0, 0],
    [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
  ],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

const join64 = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

/** A generator whose next op starts at (counter, key): seed = key, stream = counter words 2–3. */
function generatorAt(ctr: number[], key: number[]): Generator {
  return new Generator(0).setState({
    algorithm: 'philox4x32-10',
    seed: join64(key[0]!, key[1]!).toString(),
    stream: join64(ctr[2]!, ctr[3]!).toString(),
    offset: join64(ctr[0]!, ctr[1]!).toString(),
  });
}

/** The stream's words computed in the test from the block function: the oracle for every backend. */
function expectedWords(g: Generator, n: number): number[] {
  const s = g.state();
  const key = BigInt(s.seed);
  const stream = BigInt(s.stream);
  const out: number[] = [];
  for (let b = 0; b * 4 < n; b++) {
    const ctr = (BigInt(s.offset) + BigInt(b)) & (2n ** 64n - 1n);
    const w = philox4x32(
      Number(ctr & 0xffffffffn),
      Number(ctr >> 32n),
      Number(stream & 0xffffffffn),
      Number(stream >> 32n),
      Number(key & 0xffffffffn),
      Number(key >> 32n),
    );
    for (let j = 0; j < 4 && out.length < n; j++) out.push(w[j]!);
  }
  return out;
}

/** Runs `make` on every device with a fresh generator of the same state; returns host values. */
async function onAll(
  devices: Device[],
  state: Generator,
  make: (device: Device, generator: Generator) => Tensor,
): Promise<number[][]> {
  const out: number[][] = [];
  for (const device of devices) {
    const t = make(device, state.clone());
    out.push(await values(t));
    t.dispose();
  }
  return out;
}

describe('Philox on every backend', () => {
  it('randomBits reproduces the Random123 known-answer vectors', async () => {
    for (const device of all) {
      for (const [ctr, key, want] of KAT) {
        const t = ops.randomBits([4], { device, generator: generatorAt(ctr, key) });
        expect(t.dtype).toBe('u32');
        expect(await values(t), `${device.name} counter ${ctr.join(',')}`).toEqual(want);
        t.dispose();
      }
    }
  });

  it('randomBits continues across blocks with a 64-bit carry (and wraps at 2^64)', async () => {
    const starts = [
      generatorAt([0xfffffffd, 7, 1, 2], [3, 4]),
      generatorAt([0xffffffff, 0xffffffff, 5, 6], [7, 8]),
    ];
    for (const g of starts) {
      const want = expectedWords(g, 23);
      const got = await onAll(all, g, (device, generator) =>
        ops.randomBits([23], { device, generator }),
      );
      for (const v of got) expect(v).toEqual(want);
    }
  });

  it('rand equals (top 24 bits)·2^-24 of the stream, bit-identical on all backends, any shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 4 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        async (shape, seed, offset) => {
          const g = new Generator(seed).setState({
            ...new Generator(seed).state(),
            offset: offset.toString(),
          });
          const n = shape.reduce((a, b) => a * b, 1);
          const want = expectedWords(g, n).map((w) => (w >>> 8) / 2 ** 24);
          const got = await onAll(all, g, (device, generator) =>
            ops.rand(shape, { device, generator }),
          );
          for (const v of got) expect(v).toEqual(want);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('numbers depend only on the row-major index, not on the shape or dispatch', async () => {
    const g = new Generator(99);
    const [flat] = await onAll([d.gpu], g, (device, generator) =>
      ops.rand([1003], { device, generator }),
    );
    const [shaped] = await onAll([d.gpu], g, (device, generator) =>
      ops.rand([17, 59], { device, generator }),
    );
    expect(shaped).toEqual(flat);
  });

  it('covers grids folded into two dimensions (over 65535 workgroups)', async () => {
    const n = 4 * 64 * 65536 + 9;
    const g = new Generator(5, { stream: 3 });
    const t = ops.randomBits([n], { device: d.gpu, generator: g.clone() });
    const got = await t.toArray();
    t.dispose();
    // The oracle for element i alone: a generator advanced to i's block.
    const wordAt = (i: number): number => {
      const at = g.clone();
      at.next(i - (i % 4));
      return expectedWords(at, 4)[i % 4]!;
    };
    const edge = 4 * 64 * 65535;
    for (const i of [0, 1, edge - 1, edge, edge + 5, n - 300, n - 1])
      expect(got[i], `element ${i}`).toBe(wordAt(i));
  });
});

describe('streams and generators', () => {
  it('consecutive ops take consecutive, non-overlapping block ranges', async () => {
    const g = new Generator(7);
    const whole = expectedWords(g.clone(), 16);
    const a = ops.randomBits([5], { device: d.gpu, generator: g });
    const b = ops.randomBits([3], { device: d.gpu, generator: g });
    expect(await values(a)).toEqual(whole.slice(0, 5));
    expect(await values(b)).toEqual(whole.slice(8, 11));
    expect(g.offset).toBe(3n);
    a.dispose();
    b.dispose();
  });

  it('a saved state resumes to the identical continuation', async () => {
    const g = new Generator(1234);
    ops.rand([10], { device: d.gpu, generator: g }).dispose();
    const saved = JSON.stringify(g.state());
    const first = ops.randn([33], { device: d.gpu, generator: g });
    const second = ops.randint(0, 100, [9], { device: d.gpu, generator: g });
    const h = new Generator(0).setState(JSON.parse(saved) as ReturnType<Generator['state']>);
    const again = ops.randn([33], { device: d.gpu, generator: h });
    const again2 = ops.randint(0, 100, [9], { device: d.gpu, generator: h });
    expect(await values(again)).toEqual(await values(first));
    expect(await values(again2)).toEqual(await values(second));
    for (const t of [first, second, again, again2]) t.dispose();
  });

  it('seeds and streams give different numbers', async () => {
    const a = await values(ops.randomBits([8], { device: d.ref, generator: new Generator(1) }));
    const b = await values(ops.randomBits([8], { device: d.ref, generator: new Generator(2) }));
    const c = await values(
      ops.randomBits([8], { device: d.ref, generator: new Generator(1, { stream: 1 }) }),
    );
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('the default generator is used when none is given, and manualSeed reproduces', async () => {
    const before = ops.defaultGenerator().state();
    try {
      ops.manualSeed(77);
      const a = await values(ops.rand([6], { device: d.ref }));
      const b = await values(ops.rand([6], { device: d.ref }));
      ops.manualSeed(77);
      expect(await values(ops.rand([6], { device: d.gpu }))).toEqual(a);
      expect(a).not.toEqual(b);
    } finally {
      ops.defaultGenerator().setState(before);
    }
  });
});

describe('distributions match across backends', () => {
  const shapes = [[], [0], [1], [3, 5, 7], [2, 0, 3], [1025]];

  it('rand, randint, bernoulli and randomBits are bit-identical', async () => {
    const g = new Generator(31337);
    for (const shape of shapes) {
      const cases: [string, (device: Device, generator: Generator) => Tensor][] = [
        ['randomBits', (device, generator) => ops.randomBits(shape, { device, generator })],
        ['rand', (device, generator) => ops.rand(shape, { device, generator })],
        ['randint', (device, generator) => ops.randint(-3, 7, shape, { device, generator })],
        [
          'randint full range',
          (device, generator) => ops.randint(-(2 ** 31), 2 ** 31, shape, { device, generator }),
        ],
        [
          'randint large',
          (device, generator) => ops.randint(5, 2 ** 31, shape, { device, generator }),
        ],
        ['bernoulli', (device, generator) => ops.bernoulli(0.3, { shape, device, generator })],
      ];
      for (const [name, make] of cases) {
        const [gpu, ref, cpu] = await onAll(all, g, make);
        expect(gpu, `${name} ${JSON.stringify(shape)}`).toEqual(ref);
        expect(cpu, `${name} ${JSON.stringify(shape)}`).toEqual(ref);
      }
    }
  });

  it('randint is low + floor(w · range / 2^32) of the stream', async () => {
    const g = new Generator(8);
    const want = expectedWords(g, 50).map((w) => -(2 ** 31) + 5 + Math.floor((w * 1000) / 2 ** 32));
    const [got] = await onAll([d.gpu], g, (device, generator) =>
      ops.randint(-(2 ** 31) + 5, -(2 ** 31) + 1005, [50], { device, generator }),
    );
    expect(got).toEqual(want);
    const full = expectedWords(g, 50).map((w) => (w | 0) ^ -(2 ** 31));
    const [gotFull] = await onAll([d.gpu], g, (device, generator) =>
      ops.randint(-(2 ** 31), 2 ** 31, [50], { device, generator }),
    );
    expect(gotFull).toEqual(full);
  });

  it('bernoulli with a probability tensor (broadcast, non-contiguous) is bit-identical', async () => {
    const g = new Generator(4);
    const probs = Array.from(uniformValues(rng(1), 15, 0, 1), (v) => Math.fround(v));
    for (const [shape, target] of [
      [[3, 5], undefined],
      [
        [5, 1],
        [2, 5, 7],
      ],
    ] as const) {
      const results = await onAll(all, g, (device, generator) => {
        const [p] = onEach([device], probs.slice(0, shape[0] * shape[1]), [...shape]);
        const pt = shape[1] === 5 ? ops.transpose(p!) : p!;
        const out = ops.bernoulli(pt, {
          device,
          generator,
          ...(target ? { shape: [...target] } : {}),
        });
        p!.dispose();
        pt.dispose();
        return out;
      });
      expect(results[0]).toEqual(results[1]);
      expect(results[2]).toEqual(results[1]);
      // The oracle: u < p elementwise.
      const n = results[1]!.length;
      const u = expectedWords(g, n).map((w) => (w >>> 8) / 2 ** 24);
      const rows = target ? target[1] : shape[1];
      const cols = target ? target[2] : shape[0];
      const pAt = (i: number): number => {
        const r = Math.floor(i / cols) % rows;
        const c = i % cols;
        return target ? probs[r]! : probs[c * shape[1] + r]!;
      };
      expect(results[1]).toEqual(u.map((x, i) => (x < pAt(i) ? 1 : 0)));
    }
  });

  it('randn, uniform and normal agree within the stated tolerances', async () => {
    const g = new Generator(2024);
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const [gpu, ref, cpu] = await onAll(all, g, (device, generator) =>
        ops.randn(shape, { device, generator }),
      );
      expectClose(gpu!, ref!, NORMAL_TOL, `randn ${JSON.stringify(shape)}`);
      expectClose(cpu!, ref!, { atol: 1e-6, rtol: 1e-7 }, 'randn cpu f32');
      const [gu, ru] = await onAll([d.gpu, d.ref], g, (device, generator) =>
        ops.uniform(shape, -2.5, 7, { device, generator }),
      );
      expectClose(gu!, ru!, AFFINE_TOL, 'uniform');
      const [gn, rn] = await onAll([d.gpu, d.ref], g, (device, generator) =>
        ops.normal(shape, 3, 0.5, { device, generator }),
      );
      expectClose(gn!, rn!, NORMAL_TOL, 'normal');
      expect(gu!.length).toBe(n);
    }
    const [gpu, ref] = await onAll([d.gpu, d.ref], g, (device, generator) =>
      ops.randn([100_000], { device, generator }),
    );
    expectClose(gpu!, ref!, NORMAL_TOL, 'randn 1e5');
  });

  it('randn follows the documented Box–Muller pairing', async () => {
    const g = new Generator(10);
    const w = expectedWords(g, 8);
    const want: number[] = [];
    for (let b = 0; b < 2; b++) {
      for (let pair = 0; pair < 2; pair++) {
        const u1 = ((w[4 * b + 2 * pair]! >>> 8) + 1) / 2 ** 24;
        const theta = (2 * Math.PI * (w[4 * b + 2 * pair + 1]! >>> 8)) / 2 ** 24;
        const r = Math.sqrt(-2 * Math.log(u1));
        want.push(r * Math.cos(theta), r * Math.sin(theta));
      }
    }
    const [gpu, ref] = await onAll([d.gpu, d.ref], g, (device, generator) =>
      ops.randn([7], { device, generator }),
    );
    expectClose(ref!, want.slice(0, 7), { atol: 1e-12, rtol: 1e-12 }, 'ref');
    expectClose(gpu!, want.slice(0, 7), NORMAL_TOL, 'gpu');
  });

  it('16-bit results are the f32 values rounded (identical on every backend)', async () => {
    const g = new Generator(6);
    for (const dtype of ['f16', 'bf16'] as DType[]) {
      const [gpu, ref, cpu] = await onAll(all, g, (device, generator) =>
        ops.rand([37], { device, generator, dtype }),
      );
      expect(gpu).toEqual(cpu);
      expect(ref).toEqual(cpu);
      const t = ops.randn([5], { device: d.gpu, generator: g.clone(), dtype });
      expect(t.dtype).toBe(dtype);
      t.dispose();
    }
  });
});

describe('statistics (1e5 samples on WebGPU)', () => {
  const N = 100_000;
  const moments = (v: ArrayLike<number>): { mean: number; variance: number } => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]!;
    const mean = s / v.length;
    let q = 0;
    for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
    return { mean, variance: q / (v.length - 1) };
  };
  /** χ² statistic of counts against equal expected counts. */
  const chiSquare = (counts: number[], total: number): number => {
    const e = total / counts.length;
    return counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
  };
  // χ²(15) exceeds 37.7 with probability 0.001; χ²(9) exceeds 27.9 likewise.
  const CHI2_15 = 37.7;
  const CHI2_9 = 27.9;

  it('rand: mean, variance and a 16-bin χ² test', async () => {
    const v = await ops.rand([N], { device: d.gpu, generator: new Generator(11) }).toArray();
    const { mean, variance } = moments(v);
    // Standard errors: 0.00091 (mean), 0.00024 (variance); bounds are about 5σ.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0046);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.0012);
    expect(v.every((x) => x >= 0 && x < 1)).toBe(true);
    const counts = new Array<number>(16).fill(0);
    for (const x of v) counts[Math.floor(x * 16)]!++;
    expect(chiSquare(counts, N)).toBeLessThan(CHI2_15);
  });

  it('randn: mean, variance, the share within one σ, and |z| < 5.8', async () => {
    const v = await ops.randn([N], { device: d.gpu, generator: new Generator(12) }).toArray();
    const { mean, variance } = moments(v);
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(variance - 1)).toBeLessThan(0.023);
    expect(v.every((x) => Math.abs(x) < 5.8)).toBe(true);
    const inside = v.filter((x) => Math.abs(x) < 1).length;
    // P(|z| < 1) = 0.6827; standard error 0.0015.
    expect(Math.abs(inside / N - 0.6827)).toBeLessThan(0.0075);
  });

  it('uniform, normal, bernoulli and randint have the right moments and support', async () => {
    const g = new Generator(13);
    const u = await ops.uniform([N], -2, 6, { device: d.gpu, generator: g }).toArray();
    const mu = moments(u);
    expect(Math.abs(mu.mean - 2)).toBeLessThan(0.037);
    expect(Math.abs(mu.variance - 64 / 12)).toBeLessThan(0.08);
    expect(u.every((x) => x >= -2 && x < 6)).toBe(true);
    const z = await ops.normal([N], 3, 2, { device: d.gpu, generator: g }).toArray();
    const mz = moments(z);
    expect(Math.abs(mz.mean - 3)).toBeLessThan(0.032);
    expect(Math.abs(mz.variance - 4)).toBeLessThan(0.09);
    const bits = await ops.bernoulli(0.3, { shape: [N], device: d.gpu, generator: g }).toArray();
    // Standard error of the share: 0.00145.
    expect(Math.abs(moments(bits).mean - 0.3)).toBeLessThan(0.0073);
    const k = await ops.randint(-3, 7, [N], { device: d.gpu, generator: g }).toArray();
    expect(k.every((x) => Number.isInteger(x) && x >= -3 && x < 7)).toBe(true);
    const counts = new Array<number>(10).fill(0);
    for (const x of k) counts[x + 3]!++;
    expect(chiSquare(counts, N)).toBeLessThan(CHI2_9);
  });

  it('compares exactly at u = p: bernoulli false, dropout keeps', async () => {
    const g = new Generator(15);
    const words = expectedWords(g, 8);
    for (const k of [0, 5]) {
      const p = (words[k]! >>> 8) / 2 ** 24;
      for (const device of all) {
        const b = await values(ops.bernoulli(p, { shape: [8], device, generator: g.clone() }));
        const [pt] = onEach([device], [p], [1]);
        const bt = await values(ops.bernoulli(pt!, { shape: [8], device, generator: g.clone() }));
        const [x] = onEach([device], new Array<number>(8).fill(1), [8]);
        const y = await values(ops.dropout(x!, p, { generator: g.clone() }));
        expect(b[k], device.name).toBe(0);
        expect(bt[k], device.name).toBe(0);
        expect(y[k], device.name).toBeCloseTo(1 / (1 - p), 5);
        for (const t of [pt!, x!]) t.dispose();
      }
    }
  });

  it('bernoulli edge probabilities: p = 0 never, p = 1 always', async () => {
    const g = new Generator(14);
    const zero = await values(ops.bernoulli(0, { shape: [1000], device: d.gpu, generator: g }));
    const one = await values(ops.bernoulli(1, { shape: [1000], device: d.gpu, generator: g }));
    expect(zero.every((x) => x === 0)).toBe(true);
    expect(one.every((x) => x === 1)).toBe(true);
  });
});

describe('dropout', () => {
  const xs = Array.from(uniformValues(rng(21), 6 * 35, 0.5, 2));

  it('zeroes about p of the elements and scales the rest by 1/(1−p); same mask on every backend', async () => {
    const g = new Generator(17);
    const p = 0.35;
    const [gpu, ref, cpu] = await onAll(all, g, (device, generator) => {
      const [x] = onEach([device], xs, [6, 35]);
      const y = ops.dropout(x!, p, { generator });
      x!.dispose();
      return y;
    });
    const u = expectedWords(g, xs.length).map((w) => (w >>> 8) / 2 ** 24);
    const want = xs.map((x, i) => (u[i]! < p ? 0 : x / (1 - p)));
    expectClose(ref!, want, { atol: 1e-12, rtol: 1e-12 }, 'ref');
    expectClose(gpu!, want, { atol: 1e-6, rtol: 1e-6 }, 'gpu');
    expectClose(cpu!, want, { atol: 1e-6, rtol: 1e-6 }, 'cpu');
    const dropped = gpu!.filter((v) => v === 0).length / xs.length;
    expect(dropped).toBeGreaterThan(0.2);
    expect(dropped).toBeLessThan(0.5);
    expect(gpu!.map((v) => v === 0)).toEqual(ref!.map((v) => v === 0));
  });

  it('reads non-contiguous and 16-bit inputs', async () => {
    const g = new Generator(18);
    const [gpu, ref] = await onAll([d.gpu, d.ref], g, (device, generator) => {
      const [x] = onEach([device], xs, [6, 35]);
      const xt = ops.slice(ops.transpose(x!), [{ start: 1, step: 2 }]);
      const y = ops.dropout(xt, 0.5, { generator });
      x!.dispose();
      return y;
    });
    expectClose(gpu!, ref!, { atol: 1e-6, rtol: 1e-6 }, 'strided');
    for (const dtype of ['bf16', 'f16'] as DType[]) {
      const [gh, ch] = await onAll([d.gpu, d.cpu], g, (device, generator) => {
        const [x] = onEach([device], xs, [6, 35], dtype);
        const y = ops.dropout(x!, 0.25, { generator });
        expect(y.dtype).toBe(dtype);
        x!.dispose();
        return y;
      });
      expectClose(gh!, ch!, { atol: 0, rtol: dtype === 'bf16' ? 8e-3 : 1e-3 }, dtype);
    }
  });

  it('p = 0 and training: false are the identity; p = 1 gives zeros', async () => {
    for (const device of [d.gpu, d.ref]) {
      const g = new Generator(19);
      const [x] = onEach([device], xs.slice(0, 12), [3, 4], 'f32', true);
      const y0 = ops.dropout(x!, 0, { generator: g });
      const ye = ops.dropout(x!, 0.7, { generator: g, training: false });
      const y1 = ops.dropout(x!, 1, { generator: g });
      expect(g.offset).toBe(0n);
      expect(await values(y0)).toEqual(await values(x!));
      expect(await values(ye)).toEqual(await values(x!));
      expect(await values(y1)).toEqual(new Array<number>(12).fill(0));
      ops.sum(ops.add(ops.add(y0, ops.mul(ye, 2)), ops.mul(y1, 5))).backward();
      expect(await values(x!.grad!)).toEqual(new Array<number>(12).fill(3));
      x!.dispose();
    }
  });

  it('gradient: finite differences on the reference, and WebGPU matches', async () => {
    const p = 0.4;
    const f = (x: Tensor): Tensor => ops.dropout(x, p, { generator: new Generator(23) });
    const vals = xs.slice(0, 30);
    await gradCheck(d.ref, f, [{ values: vals, shape: [5, 6] }]);
    const [g, r] = onEach([d.gpu, d.ref], vals, [5, 6], 'f32', true);
    const wv = Array.from(uniformValues(rng(3), 30, -1, 1));
    for (const x of [g!, r!]) {
      const [w] = onEach([x.device], wv, [5, 6]);
      ops.sum(ops.mul(f(x), w!)).backward();
    }
    const gg = await values(g!.grad!);
    expectClose(gg, await values(r!.grad!), { atol: 1e-6, rtol: 1e-6 }, 'grad');
    // The gradient is w · mask / (1 − p), with the forward's mask.
    const y = await values(f(r!));
    gg.forEach((v, i) => expect(v).toBeCloseTo(y[i] === 0 ? 0 : wv[i]! / (1 - p), 5));
  });

  it('leaves no live tensors after forward, backward and dispose', async () => {
    for (const device of [d.gpu, d.ref]) {
      const before = device.memory();
      const g = new Generator(29);
      for (let k = 0; k < 3; k++) {
        await scope(async () => {
          const [x] = onEach([device], xs, [6, 35], 'f32', true);
          const y = ops.dropout(x!, 0.3, { generator: g });
          const z = ops.mul(y, ops.randn([6, 35], { device, generator: g }));
          ops.sum(z).backward();
          await values(x!.grad!);
          ops.rand([7], { device, generator: g });
          ops.bernoulli(x!, { device, generator: g, shape: [6, 35] });
          ops.randint(0, 5, [3], { device, generator: g });
          ops.dropout(x!, 0, { generator: g });
          ops.dropout(x!, 1, { generator: g });
          x!.dispose();
        });
      }
      const after = device.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.liveBytes).toBe(before.liveBytes);
    }
  });
});

describe('errors name the op and the argument', () => {
  it('validates shapes, dtypes, probabilities and ranges', () => {
    const device = d.ref;
    expect(() => ops.rand([2, -1], { device })).toThrow(/rand: shape must be a list/);
    expect(() => ops.rand([2], { device, dtype: 'i32' })).toThrow(
      'rand: options.dtype is i32; expected a float dtype (f32, f16, bf16)',
    );
    expect(() => ops.uniform([2], 3, 1, { device })).toThrow(
      'uniform: low is 3 and high is 1; expected low <= high',
    );
    expect(() => ops.normal([2], 0, -1, { device })).toThrow(
      'normal: std is -1; expected std >= 0',
    );
    expect(() => ops.bernoulli(1.5, { shape: [2], device })).toThrow(
      'bernoulli: p is 1.5; expected a number in [0, 1]',
    );
    expect(() => ops.bernoulli(0.5, { device })).toThrow(/options.shape is required/);
    const [p] = onEach([device], [0.1, 0.2, 0.3], [3]);
    expect(() => ops.bernoulli(p!, { shape: [2, 2] })).toThrow(/bernoulli: shapes/);
    expect(() => ops.bernoulli(p!, { shape: [1] })).toThrow(
      'bernoulli: p has shape [3]; expected it to broadcast to options.shape [1]',
    );
    expect(() => ops.bernoulli(p!, { device: d.gpu })).toThrow(/bernoulli: options.device/);
    expect(() => ops.randint(5, 5, [2], { device })).toThrow(
      'randint: got low 5 and high 5; expected -2^31 <= low < high <= 2^31 (i32 results)',
    );
    expect(() => ops.randint(0, 2 ** 31 + 1, [2], { device })).toThrow(/randint: got low 0/);
    expect(() => ops.randint(0.5, 3, [2], { device })).toThrow(
      'randint: low is 0.5; expected an integer',
    );
    expect(() => ops.dropout(p!, -0.1)).toThrow('dropout: p is -0.1; expected a number in [0, 1]');
    const [i] = onEach([device], [1, 2], [2], 'i32');
    expect(() => ops.dropout(i!, 0.5)).toThrow('dropout: x has dtype i32; expected a float dtype');
    expect(() => ops.rand([2], { device, generator: {} as unknown as Generator })).toThrow(
      /rand: options.generator must be a Generator/,
    );
    p!.dispose();
    i!.dispose();
  });
});
