// Every op on the wasm backend against the float64 reference: a broad table of op
// calls (forward, and backward where the op has gradients) on random inputs, then a
// check that the table reached every op registered for the reference backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device } from '../../device.js';
import type { DType } from '../../dtype.js';
import * as ops from '../../ops/index.js';
import { scope } from '../../memory/scope.js';
import { Generator } from '../../random/generator.js';
import { registeredOps } from '../../registry.js';
import type { Tensor } from '../../tensor.js';
import { TOLERANCE, expectClose, rng, uniformValues } from '../../test-utils/index.js';
import type { WasmBackend } from './wasm-backend.js';

let wasm: Device;
let ref: Device;

beforeAll(async () => {
  wasm = await Device.open({ backend: 'wasm', threads: 2 });
  ref = await Device.open({ backend: 'cpu', float64: true });
});
afterAll(() => {
  wasm.close();
  ref.close();
});

interface Input {
  shape: number[];
  lo?: number;
  hi?: number;
  dtype?: DType;
  /** Round values to integers (ties, indices, predicates). */
  ints?: boolean;
  /** Differentiate with respect to this input. */
  grad?: boolean;
}

interface Case {
  name: string;
  inputs: Input[];
  fn: (device: Device, ...xs: Tensor[]) => Tensor | Tensor[];
  tol?: { atol: number; rtol: number };
}

const f = (shape: number[], lo = -1, hi = 1, grad = true): Input => ({ shape, lo, hi, grad });
const pos = (shape: number[]): Input => f(shape, 0.2, 2);
const idx = (shape: number[], hi: number): Input => ({
  shape,
  lo: 0,
  hi,
  dtype: 'i32',
  ints: true,
});
const gen = (): Generator => new Generator(1234);

const UNARY = [
  'neg',
  'abs',
  'exp',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'relu',
  'silu',
  'square',
  'sign',
  'floor',
  'ceil',
  'round',
] as const;

const CASES: Case[] = [
  ...UNARY.map((n) => ({
    name: n,
    inputs: [f([5, 37], -3, 3)],
    fn: (_d: Device, x: Tensor) => (ops as unknown as Record<string, (t: Tensor) => Tensor>)[n]!(x),
  })),
  { name: 'log', inputs: [pos([3, 41])], fn: (_d, x) => ops.log(x) },
  { name: 'sqrt', inputs: [pos([3, 41])], fn: (_d, x) => ops.sqrt(x) },
  { name: 'rsqrt', inputs: [pos([3, 41])], fn: (_d, x) => ops.rsqrt(x) },
  { name: 'reciprocal', inputs: [pos([3, 41])], fn: (_d, x) => ops.reciprocal(x) },
  { name: 'gelu erf', inputs: [f([4, 33], -4, 4)], fn: (_d, x) => ops.gelu(x) },
  { name: 'gelu tanh', inputs: [f([4, 33], -4, 4)], fn: (_d, x) => ops.gelu(x, 'tanh') },
  {
    name: 'unary on a transposed view',
    inputs: [f([6, 9])],
    fn: (_d, x) => ops.exp(ops.transpose(x)),
  },
  { name: 'add same shape', inputs: [f([7, 13]), f([7, 13])], fn: (_d, a, b) => ops.add(a, b) },
  { name: 'sub row broadcast', inputs: [f([5, 3, 11]), f([11])], fn: (_d, a, b) => ops.sub(a, b) },
  {
    name: 'mul column broadcast',
    inputs: [f([6, 19]), f([6, 1])],
    fn: (_d, a, b) => ops.mul(a, b),
  },
  { name: 'div by a scalar', inputs: [f([6, 19]), pos([])], fn: (_d, a, b) => ops.div(a, b) },
  { name: 'div of a scalar', inputs: [f([]), pos([2, 9])], fn: (_d, a, b) => ops.div(a, b) },
  {
    name: 'maximum outer broadcast',
    inputs: [f([3, 1, 5]), f([4, 5])],
    fn: (_d, a, b) => ops.maximum(a, b),
  },
  { name: 'minimum', inputs: [f([2, 17]), f([2, 17])], fn: (_d, a, b) => ops.minimum(a, b) },
  { name: 'pow', inputs: [pos([3, 7]), f([3, 7])], fn: (_d, a, b) => ops.pow(a, b) },
  {
    name: 'add f16',
    inputs: [
      { shape: [3, 9], dtype: 'f16' },
      { shape: [9], dtype: 'f16' },
    ],
    fn: (_d, a, b) => ops.add(a, b),
    tol: TOLERANCE.f16,
  },
  { name: 'add i32 with a number', inputs: [idx([4, 5], 9)], fn: (_d, a) => ops.add(a, 3) },
  ...(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const).map((n) => ({
    name: n,
    inputs: [
      { shape: [4, 9], lo: -2, hi: 2, ints: true },
      { shape: [9], lo: -2, hi: 2, ints: true },
    ],
    fn: (_d: Device, a: Tensor, b: Tensor) => ops[n](a, b),
  })),
  {
    name: 'where',
    inputs: [{ shape: [4, 6], lo: 0, hi: 1.99, ints: true }, f([4, 6]), f([6])],
    fn: (_d, c, a, b) => ops.where(ops.cast(c, 'bool'), a, b),
  },
  {
    name: 'cast f32 → f16 → f32',
    inputs: [f([33])],
    fn: (_d, x) => ops.cast(ops.cast(x, 'f16'), 'f32'),
    tol: TOLERANCE.f16,
  },
  { name: 'cast f32 → i32', inputs: [f([33], -9, 9, false)], fn: (_d, x) => ops.cast(x, 'i32') },
  {
    name: 'copy of a permuted view',
    inputs: [f([3, 4, 5, 2])],
    fn: (_d, x) => ops.contiguous(ops.permute(x, [2, 0, 3, 1])),
  },
  { name: 'fill', inputs: [], fn: (d) => ops.full([3, 5], 2.5, { device: d }) },
  { name: 'sum all', inputs: [f([7, 9])], fn: (_d, x) => ops.sum(x) },
  { name: 'sum leading axis', inputs: [f([37, 10])], fn: (_d, x) => ops.sum(x, { axis: 0 }) },
  {
    name: 'mean middle axes',
    inputs: [f([3, 4, 5, 6])],
    fn: (_d, x) => ops.mean(x, { axis: [1, 2] }),
  },
  {
    name: 'mean non-adjacent axes',
    inputs: [f([3, 4, 5])],
    fn: (_d, x) => ops.mean(x, { axis: [0, 2] }),
  },
  { name: 'max', inputs: [f([5, 13])], fn: (_d, x) => ops.max(x, { axis: -1 }) },
  { name: 'min', inputs: [f([5, 13])], fn: (_d, x) => ops.min(x, { axis: 0 }) },
  { name: 'prod', inputs: [f([4, 5], 0.5, 1.5)], fn: (_d, x) => ops.prod(x, { axis: 1 }) },
  { name: 'logsumexp', inputs: [f([4, 11])], fn: (_d, x) => ops.logsumexp(x, { axis: -1 }) },
  { name: 'variance', inputs: [f([4, 11])], fn: (_d, x) => ops.variance(x, { axis: -1 }) },
  {
    name: 'argmax/argmin',
    inputs: [f([4, 11], -1, 1, false)],
    fn: (_d, x) => [ops.argmax(x, { axis: -1 }), ops.argmin(x, { axis: 0 })],
  },
  { name: 'matmul', inputs: [f([9, 13]), f([13, 11])], fn: (_d, a, b) => ops.matmul(a, b) },
  {
    name: 'matmul transposed, batched, broadcast',
    inputs: [f([2, 3, 13, 9]), f([3, 11, 13])],
    fn: (_d, a, b) => ops.matmul(a, b, { transA: true, transB: true }),
  },
  { name: 'softmax', inputs: [f([5, 21], -4, 4)], fn: (_d, x) => ops.softmax(x) },
  { name: 'softmax middle axis', inputs: [f([3, 7, 4])], fn: (_d, x) => ops.softmax(x, 1) },
  { name: 'log_softmax', inputs: [f([5, 21], -4, 4)], fn: (_d, x) => ops.logSoftmax(x) },
  {
    name: 'layer_norm',
    inputs: [f([6, 23]), f([23]), f([23])],
    fn: (_d, x, w, b) => ops.layerNorm(x, w, b),
  },
  { name: 'rms_norm', inputs: [f([6, 23]), f([23])], fn: (_d, x, w) => ops.rmsNorm(x, w) },
  { name: 'rms_norm without weight', inputs: [f([2, 3, 17])], fn: (_d, x) => ops.rmsNorm(x) },
  {
    name: 'cross_entropy mean with ignore index and smoothing',
    inputs: [f([7, 13], -3, 3), idx([7], 12.99)],
    fn: (d, x, t) =>
      ops.crossEntropy(
        x,
        ops.where(ops.eq(t, 3), ops.full([7], -100, { device: d, dtype: 'i32' }), t),
        { labelSmoothing: 0.1 },
      ),
  },
  {
    name: 'cross_entropy none',
    inputs: [f([5, 9], -3, 3), idx([5], 8.99)],
    fn: (_d, x, t) => ops.crossEntropy(x, t, { reduction: 'none' }),
  },
  {
    name: 'cross_entropy sum',
    inputs: [f([5, 9], -3, 3), idx([5], 8.99)],
    fn: (_d, x, t) => ops.crossEntropy(x, t, { reduction: 'sum' }),
  },
  {
    name: 'embedding',
    inputs: [f([10, 6]), idx([3, 4], 9.99)],
    fn: (_d, w, i) => ops.embedding(w, i),
  },
  {
    name: 'index_select',
    inputs: [f([5, 8]), idx([6], 7.99)],
    fn: (_d, x, i) => ops.indexSelect(x, 1, i),
  },
  { name: 'gather', inputs: [f([4, 6]), idx([4, 3], 5.99)], fn: (_d, x, i) => ops.gather(x, 1, i) },
  {
    name: 'scatter_add',
    inputs: [f([4, 6]), idx([4, 3], 5.99), f([4, 3])],
    fn: (_d, x, i, s) => ops.scatterAdd(x, 1, i, s),
  },
  {
    name: 'slice (backward scatters)',
    inputs: [f([6, 9])],
    fn: (_d, x) =>
      ops.slice(x, [
        { start: 1, end: 5 },
        { start: 0, step: 2 },
      ]),
  },
  { name: 'concat', inputs: [f([3, 4]), f([3, 2])], fn: (_d, a, b) => ops.concat([a, b], 1) },
  {
    name: 'pad',
    inputs: [f([3, 4])],
    fn: (_d, x) =>
      ops.pad(
        x,
        [
          [1, 0],
          [2, 1],
        ],
        0.5,
      ),
  },
  {
    name: 'topk',
    inputs: [f([3, 10], -1, 1, false)],
    fn: (_d, x) => {
      const r = ops.topk(x, 4);
      return [r.values, r.indices];
    },
  },
  { name: 'cumsum', inputs: [f([3, 10])], fn: (_d, x) => ops.cumsum(x, 1) },
  {
    name: 'randomBits',
    inputs: [],
    fn: (d) => ops.randomBits([37], { device: d, generator: gen() }),
  },
  { name: 'rand', inputs: [], fn: (d) => ops.rand([37], { device: d, generator: gen() }) },
  { name: 'randn', inputs: [], fn: (d) => ops.randn([37], { device: d, generator: gen() }) },
  {
    name: 'randint',
    inputs: [],
    fn: (d) => ops.randint(-5, 9, [37], { device: d, generator: gen() }),
  },
  {
    name: 'bernoulli',
    inputs: [f([37], 0, 1, false)],
    fn: (_d, p) => ops.bernoulli(p, { generator: gen() }),
  },
  {
    name: 'dropout',
    inputs: [f([5, 8])],
    fn: (_d, x) => ops.dropout(x, 0.3, { generator: gen() }),
  },
];

/** Ops (kernel names) the table above exercises: every op tensor-core had when it was written. */
const TABLE_OPS =
  `abs abs_grad add argmax argmin bernoulli cast ceil concat copy cos cos_grad cross_entropy
cross_entropy_grad cumsum div dropout eq exp exp_grad fill floor gather ge gelu_erf gelu_erf_grad
gelu_tanh gelu_tanh_grad gt index_select index_select_grad layer_norm layer_norm_grad_input
layer_norm_grad_params le log log_grad log_softmax log_softmax_grad logical_and logical_or logsumexp
lt matmul max maximum mean min minimum mul ne neg neg_grad pad pow prod randint random_bits
random_normal random_uniform reciprocal reciprocal_grad relu relu_grad rms_norm rms_norm_grad_input
rms_norm_grad_params round rsqrt rsqrt_grad scatter_add sigmoid sigmoid_grad sign silu silu_grad sin
sin_grad slice_grad softmax softmax_grad sqrt sqrt_grad square square_grad sub sum tanh tanh_grad
topk variance where`.split(/\s+/);

function inputsOn(device: Device, inputs: Input[], seed: number): Tensor[] {
  const rand = rng(seed);
  return inputs.map((inp) => {
    const n = inp.shape.reduce((a, b) => a * b, 1);
    let v = uniformValues(rand, n, inp.lo ?? -1, inp.hi ?? 1);
    if (inp.ints) v = v.map(Math.floor);
    return ops.fromArray(v, inp.shape, {
      device,
      dtype: inp.dtype ?? 'f32',
      requiresGrad: inp.grad ?? false,
    });
  });
}

async function run(device: Device, c: Case, seed: number): Promise<Float64Array[]> {
  const xs = inputsOn(device, c.inputs, seed);
  const out = c.fn(device, ...xs);
  const outs = Array.isArray(out) ? out : [out];
  const results: Float64Array[] = [];
  for (const o of outs) results.push(Float64Array.from(await o.toArray()));
  if (outs[0]!.requiresGrad) {
    const w = ops.fromArray(
      uniformValues(rng(seed + 1), outs[0]!.size, 0.5, 1.5),
      [...outs[0]!.shape],
      { device },
    );
    ops.sum(ops.mul(outs[0]!, w)).backward();
    for (const x of xs)
      if (x.requiresGrad) results.push(Float64Array.from(await x.grad!.toArray()));
  }
  return results;
}

describe('wasm backend: every op against the float64 reference', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const got = await scope(() => run(wasm, c, 100 + i));
      const want = await scope(() => run(ref, c, 100 + i));
      expect(got.length).toBe(want.length);
      got.forEach((g, k) =>
        expectClose(g, want[k]!, c.tol ?? { atol: 2e-5, rtol: 2e-4 }, `${c.name} result ${k}`),
      );
    });
  }

  it('reached every op of the table, and every reference op has a wasm kernel', () => {
    const counts = (wasm.backend as WasmBackend).counts;
    const missing = TABLE_OPS.filter((op) => !counts.has(op));
    expect(missing).toEqual([]);
    // Ops added after this table run through the fallback too; add a case for each here.
    expect(registeredOps('wasm')).toEqual(expect.arrayContaining(registeredOps('cpu')));
  });
});
