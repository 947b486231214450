/**
 * MoE layer forward + backward against (a) a dense SwiGLU with the same
 * activated parameters per token (width k·I + S·I) and (b) a naive MoE that
 * reads the routing back to the CPU and runs one gather / SwiGLU / scatter-add
 * per expert with tensor-core ops. Prints a table of median times.
 * Run: `node --import tsx bench/run.ts [webgpu|cpu]` (WebGPU by default; lavapipe when that is the adapter).
 */
import {
  Device,
  type Tensor,
  add,
  fromArray,
  gather,
  indexSelect,
  matmul,
  mul,
  noGrad,
  randn,
  reshape,
  scatterAdd,
  scope,
  sigmoid,
  silu,
  softmax,
  sum,
  div,
  zeros,
} from '@fathom/tensor-core';
import { SwiGlu } from '@fathom/nn-layers';
import { MoeLayer, routeTopK } from '../src/index.js';

const backend = (process.argv[2] ?? 'webgpu') as 'webgpu' | 'cpu';
const WARMUP = 2;
const ITERS = 5;

interface Size {
  tokens: number;
  hidden: number;
  experts: number;
  k: number;
  width: number;
  shared: number;
}

const SIZES: Size[] = [
  { tokens: 256, hidden: 128, experts: 8, k: 2, width: 128, shared: 1 },
  { tokens: 1024, hidden: 128, experts: 16, k: 2, width: 64, shared: 1 },
];

async function time(fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(ITERS / 2)]!;
}

function swiglu(x: Tensor, g: Tensor, u: Tensor, d: Tensor): Tensor {
  const a = silu(matmul(x, g, { transB: true }));
  return matmul(mul(a, matmul(x, u, { transB: true })), d, { transB: true });
}

/** The same layer computed with CPU-known routing: per-expert gathers, matmuls and scatter-adds. */
async function naiveMoe(layer: MoeLayer, x: Tensor): Promise<Tensor> {
  const c = layer.config;
  const sd = layer.stateDict();
  const w = (name: string): Tensor => sd.get(name)!;
  const logits = matmul(x, w('gate.weight'), { transB: true });
  const scores = c.scoring === 'softmax' ? softmax(logits, -1) : sigmoid(logits);
  const idx = noGrad(() => routeTopK(scores, { k: c.topK }));
  const chosen = await idx.toArray(); // the readback the grouped kernels avoid
  let weights = gather(scores, 1, idx);
  if (c.normTopkProb) weights = div(weights, sum(weights, { axis: -1, keepdim: true }));
  const flatW = reshape(weights, [-1]);
  const [n, h] = x.shape as [number, number];
  let out = zeros([n, h], { device: x.device });
  for (let e = 0; e < c.numExperts; e++) {
    const assign: number[] = [];
    chosen.forEach((v, a) => v === e && assign.push(a));
    if (assign.length === 0) continue;
    const tok = fromArray(
      assign.map((a) => Math.floor(a / c.topK)),
      [assign.length],
      { device: x.device, dtype: 'i32' },
    );
    const rows = indexSelect(x, 0, tok);
    const y = swiglu(
      rows,
      w(`experts.${e}.gate_proj.weight`),
      w(`experts.${e}.up_proj.weight`),
      w(`experts.${e}.down_proj.weight`),
    );
    const we = indexSelect(
      flatW,
      0,
      fromArray(assign, [assign.length], { device: x.device, dtype: 'i32' }),
    );
    const scaled = mul(y, reshape(we, [assign.length, 1]));
    const index = fromArray(
      assign.flatMap((a) => new Array<number>(h).fill(Math.floor(a / c.topK))),
      [assign.length, h],
      { device: x.device, dtype: 'i32' },
    );
    out = scatterAdd(out, 0, index, scaled);
  }
  if (c.numSharedExperts > 0)
    out = add(
      out,
      swiglu(
        x,
        w('shared_experts.gate_proj.weight'),
        w('shared_experts.up_proj.weight'),
        w('shared_experts.down_proj.weight'),
      ),
    );
  return out;
}

const device = await Device.open({ backend });
console.log(`device: ${device.backend.description}`);
const rows: string[][] = [];
for (const s of SIZES) {
  const layer = new MoeLayer(
    {
      numExperts: s.experts,
      topK: s.k,
      expertIntermediateSize: s.width,
      numSharedExperts: s.shared,
    },
    { hiddenSize: s.hidden, device },
  );
  const dense = new SwiGlu({
    hiddenSize: s.hidden,
    intermediateSize: (s.k + s.shared) * s.width,
    device,
  });
  const x = randn([s.tokens, s.hidden], { device });
  x.requireGrad();
  const params = [...layer.parameters(), ...dense.parameters(), x];
  const step = (run: () => Tensor | Promise<Tensor>) => async (): Promise<void> => {
    await scope(async () => {
      const y = await run();
      const l = sum(y);
      l.backward();
      await l.item();
    });
    for (const p of params) p.setGrad(null);
  };
  const moe = await time(step(() => layer.forward(x)));
  const dn = await time(step(() => dense.forward(x)));
  const naive = await time(step(() => naiveMoe(layer, x)));
  // Same numbers from both MoE implementations (a sanity check of the bench itself).
  const diff = await scope(async () => {
    const a = Array.from(await noGrad(() => layer.forward(x)).toArray());
    const b = Array.from(await (await naiveMoe(layer, x)).toArray());
    const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (!(scale > 0))
      throw new Error('bench: the MoE output is all zeros; the comparison would mean nothing');
    return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / scale;
  });
  rows.push([
    `${s.tokens}×${s.hidden}, E=${s.experts}, k=${s.k}, I=${s.width}, S=${s.shared}`,
    moe.toFixed(1),
    dn.toFixed(1),
    naive.toFixed(1),
    (moe / dn).toFixed(2),
    (naive / moe).toFixed(2),
    diff.toExponential(1),
  ]);
  layer.dispose();
  dense.dispose();
  x.dispose();
}
const head = [
  'shape',
  'MoE ms',
  'dense ms',
  'naive ms',
  'MoE/dense',
  'naive/MoE',
  'max |Δ|/max |y|',
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string => `| ${r.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(head));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(`forward + backward, median of ${ITERS} after ${WARMUP} warm-up runs`);
device.close();
