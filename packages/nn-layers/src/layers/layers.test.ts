import { Device, type Tensor, fromArray, sum } from '@fathom/tensor-core';
import { expectClose, gradCheck, rng, uniformValues } from '@fathom/tensor-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CausalSelfAttention } from './attention.js';
import { Embedding } from './embedding.js';
import { KvCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { GeluMlp, SwiGlu } from './mlp.js';
import { LayerNorm, RmsNorm } from './norms.js';
import { Rope } from './rope.js';

let gpu: Device;
let ref: Device;
beforeAll(async () => {
  gpu = await Device.open({ backend: 'webgpu' });
  ref = await Device.open({ backend: 'cpu', float64: true });
});
afterAll(() => {
  gpu.close();
  ref.close();
});

const vals = async (t: Tensor): Promise<number[]> => Array.from(await t.toArray());
/** Host copy of a matrix as rows. */
const rows = (flat: number[], cols: number): number[][] =>
  Array.from({ length: flat.length / cols }, (_, i) => flat.slice(i * cols, i * cols + cols));
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('Linear, Embedding, norms: forward against formulas computed here in float64', () => {
  it('Linear computes x·Wᵀ + b on WebGPU', async () => {
    const lin = new Linear(5, 3, { device: gpu, bias: true, initStd: 0.5 });
    const x = uniformValues(rng(1), 4 * 5);
    const y = await vals(lin.forward(fromArray(x, [4, 5], { device: gpu })));
    const w = rows(await vals(lin.weight), 5);
    const b = await vals(lin.bias!);
    const want = rows(Array.from(x), 5).flatMap((r) => w.map((wr, j) => dot(r, wr) + b[j]!));
    expectClose(y, want, { atol: 1e-5, rtol: 1e-5 }, 'linear');
    expect(() => lin.forward(fromArray([1, 2], [1, 2], { device: gpu }))).toThrow(
      'Linear: input has shape [1,2]; expected last dim 5',
    );
  });

  it('Embedding gathers rows', async () => {
    const emb = new Embedding(10, 4, { device: gpu });
    const table = rows(await vals(emb.weight), 4);
    const out = await vals(
      emb.forward(fromArray([3, 0, 9, 3], [2, 2], { device: gpu, dtype: 'i32' })),
    );
    expect(out).toEqual([...table[3]!, ...table[0]!, ...table[9]!, ...table[3]!]);
  });

  it('RmsNorm and LayerNorm match their definitions', async () => {
    const x = Array.from(uniformValues(rng(2), 3 * 8, -2, 3));
    const rms = await vals(
      new RmsNorm(8, 1e-6, { device: gpu }).forward(fromArray(x, [3, 8], { device: gpu })),
    );
    const ln = await vals(
      new LayerNorm(8, 1e-5, { device: gpu }).forward(fromArray(x, [3, 8], { device: gpu })),
    );
    const wantRms = rows(x, 8).flatMap((r) => {
      const s = 1 / Math.sqrt(dot(r, r) / 8 + 1e-6);
      return r.map((v) => v * s);
    });
    const wantLn = rows(x, 8).flatMap((r) => {
      const m = r.reduce((a, b) => a + b) / 8;
      const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / 8;
      return r.map((z) => (z - m) / Math.sqrt(v + 1e-5));
    });
    expectClose(rms, wantRms, { atol: 1e-5, rtol: 1e-4 }, 'rms');
    expectClose(ln, wantLn, { atol: 1e-5, rtol: 1e-4 }, 'layernorm');
  });

  it('gradients of each layer match finite differences (float64 reference)', async () => {
    const x = Array.from(uniformValues(rng(3), 2 * 6));
    const layers = [
      new Linear(6, 4, { device: ref, bias: true, initStd: 0.5 }),
      new RmsNorm(6, 1e-6, { device: ref }),
      new LayerNorm(6, 1e-5, { device: ref }),
      new SwiGlu({ hiddenSize: 6, intermediateSize: 5, device: ref, initStd: 0.5 }),
      new GeluMlp({ hiddenSize: 6, intermediateSize: 5, device: ref, initStd: 0.5 }),
    ];
    for (const layer of layers) {
      await gradCheck(ref, (t) => layer.forward(t), [{ values: x, shape: [2, 6] }]);
      await paramGradCheck(layer, (l) => l.forward(fromArray(x, [2, 6], { device: ref })));
    }
  });
});

/** Checks every parameter's autograd gradient of sum(f) against central differences. */
async function paramGradCheck<L extends { namedParameters(): [string, Tensor][] }>(
  layer: L,
  f: (l: L) => Tensor,
): Promise<void> {
  const { executeInPlace, noGrad } = await import('@fathom/tensor-core');
  for (const [, p] of layer.namedParameters()) p.setGrad(null);
  sum(f(layer)).backward();
  for (const [name, p] of layer.namedParameters()) {
    const base = Array.from(await p.toArray());
    const analytic = Array.from(await p.grad!.toArray());
    const numeric: number[] = [];
    const set = (v: number[]): void =>
      noGrad(() =>
        executeInPlace('copy', [fromArray(v, [...p.shape], { device: p.device })], [p], {}),
      );
    for (let i = 0; i < base.length; i++) {
      const at = async (d: number): Promise<number> => {
        const v = base.slice();
        v[i]! += d;
        set(v);
        return noGrad(() => sum(f(layer))).item();
      };
      numeric.push(((await at(1e-6)) - (await at(-1e-6))) / 2e-6);
    }
    set(base);
    expectClose(analytic, numeric, { atol: 1e-6, rtol: 1e-5 }, name);
  }
}

describe('RoPE', () => {
  it('rotates halves by pos·base^(−2i/d), checked against the direct formula', async () => {
    const d = 8;
    const rope = new Rope(d, 16, 10000, gpu);
    const x = Array.from(uniformValues(rng(4), 5 * d));
    const out = await vals(rope.apply(fromArray(x, [1, 5, d], { device: gpu }), 3));
    const want: number[] = [];
    for (let t = 0; t < 5; t++) {
      const r = x.slice(t * d, t * d + d);
      const first: number[] = [];
      const second: number[] = [];
      for (let i = 0; i < d / 2; i++) {
        const a = (t + 3) / 10000 ** ((2 * i) / d);
        first.push(r[i]! * Math.cos(a) - r[i + d / 2]! * Math.sin(a));
        second.push(r[i + d / 2]! * Math.cos(a) + r[i]! * Math.sin(a));
      }
      want.push(...first, ...second);
    }
    expectClose(out, want, { atol: 1e-5, rtol: 1e-5 }, 'rope');
  });
});

/** Direct attention in float64 for one batch: q,k,v as [H][T][d] arrays. */
function directAttention(
  q: number[][][],
  k: number[][][],
  v: number[][][],
  causal: boolean,
): number[][][] {
  return q.map((qh, h) =>
    qh.map((qt, t) => {
      const scores = k[h]!.map((ks, s) =>
        causal && s > t ? -Infinity : dot(qt, ks) / Math.sqrt(qt.length),
      );
      const m = Math.max(...scores);
      const e = scores.map((z) => Math.exp(z - m));
      const z = e.reduce((a, b) => a + b);
      return v[h]![0]!.map((_, j) => e.reduce((acc, w, s) => acc + (w / z) * v[h]![s]![j]!, 0));
    }),
  );
}

describe('CausalSelfAttention', () => {
  const hidden = 16;
  const make = (numKvHeads: number, causal = true, device = gpu): CausalSelfAttention =>
    new CausalSelfAttention({
      hiddenSize: hidden,
      numHeads: 4,
      numKvHeads,
      maxLength: 32,
      device,
      initStd: 0.3,
      causal,
    });

  for (const causal of [true, false]) {
    it(`matches a direct float64 computation (${causal ? 'causal' : 'no mask'})`, async () => {
      const attn = make(4, causal);
      const t = 6;
      const x = Array.from(uniformValues(rng(5), t * hidden));
      const got = await vals(attn.forward(fromArray(x, [1, t, hidden], { device: gpu })));
      const sd = attn.stateDict();
      const W = async (n: string): Promise<number[][]> =>
        rows(await vals(sd.get(`${n}.weight`)!), hidden);
      const [wq, wk, wv, wo] = await Promise.all(['q_proj', 'k_proj', 'v_proj', 'o_proj'].map(W));
      const xr = rows(x, hidden);
      const proj = (w: number[][]): number[][] => xr.map((r) => w.map((wr) => dot(r, wr)));
      const rope = (m: number[][]): number[][][] =>
        [0, 1, 2, 3].map((h) =>
          m.map((r, pos) => {
            const z = r.slice(h * 4, h * 4 + 4);
            const a = [pos, pos / 100];
            return [
              z[0]! * Math.cos(a[0]!) - z[2]! * Math.sin(a[0]!),
              z[1]! * Math.cos(a[1]!) - z[3]! * Math.sin(a[1]!),
              z[2]! * Math.cos(a[0]!) + z[0]! * Math.sin(a[0]!),
              z[3]! * Math.cos(a[1]!) + z[1]! * Math.sin(a[1]!),
            ];
          }),
        );
      const heads = (m: number[][]): number[][][] =>
        [0, 1, 2, 3].map((h) => m.map((r) => r.slice(h * 4, h * 4 + 4)));
      const ctx = directAttention(rope(proj(wq!)), rope(proj(wk!)), heads(proj(wv!)), causal);
      const merged = xr.map((_, tt) => [0, 1, 2, 3].flatMap((h) => ctx[h]![tt]!));
      const want = merged.flatMap((r) => wo!.map((wr) => dot(r, wr)));
      expectClose(got, want, { atol: 2e-5, rtol: 1e-4 }, 'attention');
    });
  }

  it('GQA equals MHA whose KV heads are repeated', async () => {
    const gqa = make(2);
    const mha = make(4);
    const sd = gqa.stateDict();
    const rep = async (name: string): Promise<Tensor> => {
      const w = rows(await vals(sd.get(`${name}.weight`)!), hidden); // [2 heads × 4, 16]
      const heads = [0, 1].map((h) => w.slice(h * 4, h * 4 + 4));
      return fromArray(
        [0, 0, 1, 1].flatMap((h) => heads[h]!.flat()),
        [16, hidden],
        { device: gpu },
      );
    };
    mha.loadStateDict(
      new Map([
        ['q_proj.weight', sd.get('q_proj.weight')!],
        ['k_proj.weight', await rep('k_proj')],
        ['v_proj.weight', await rep('v_proj')],
        ['o_proj.weight', sd.get('o_proj.weight')!],
      ]),
    );
    const x = fromArray(uniformValues(rng(6), 2 * 5 * hidden), [2, 5, hidden], { device: gpu });
    expectClose(
      await vals(gqa.forward(x)),
      await vals(mha.forward(x)),
      { atol: 1e-5, rtol: 1e-5 },
      'gqa',
    );
  });

  it('decoding with the KV cache equals recomputing the full sequence', async () => {
    const attn = make(2);
    const t = 7;
    const x = Array.from(uniformValues(rng(7), t * hidden));
    const full = await vals(attn.forward(fromArray(x, [1, t, hidden], { device: gpu })));
    const cache = new KvCache(1);
    const prefix = await vals(
      attn.forward(fromArray(x.slice(0, 4 * hidden), [1, 4, hidden], { device: gpu }), {
        cache: cache.layers[0]!,
      }),
    );
    const steps: number[] = [];
    for (let i = 4; i < t; i++) {
      steps.push(
        ...(await vals(
          attn.forward(
            fromArray(x.slice(i * hidden, (i + 1) * hidden), [1, 1, hidden], { device: gpu }),
            { cache: cache.layers[0]! },
          ),
        )),
      );
    }
    expect(cache.length).toBe(t);
    expectClose([...prefix, ...steps], full, { atol: 1e-5, rtol: 1e-5 }, 'kv cache');
    cache.dispose();
  });

  it('input gradients match finite differences (float64 reference)', async () => {
    const attn = make(2, true, ref);
    await gradCheck(
      ref,
      (x) => attn.forward(x),
      [{ values: Array.from(uniformValues(rng(8), 3 * hidden)), shape: [1, 3, hidden] }],
      { atol: 1e-6, rtol: 1e-4 },
    );
  });
});
