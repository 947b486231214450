import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Linear } from '@fathom/nn-layers';
import { type Device, Generator, type Tensor, fromArray } from '@fathom/tensor-core';
import { expectClose, gradCheck, rng, uniformValues } from '@fathom/tensor-core/testing';
import { attentionKl } from './attention-kl.js';
import { cosineEmbeddingLoss } from './cosine.js';
import { hiddenMse } from './hidden-mse.js';
import { hardLabelLoss, logitDistillationLoss, logitKl } from './logit-kl.js';
import { relationKl } from './relation.js';

// Oracles: direct float64 loops, written independently of the tensor ops.
function softmaxRow(x: ArrayLike<number>, from: number, n: number, scale = 1): number[] {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, x[from + i]! * scale);
  const e = Array.from({ length: n }, (_, i) => Math.exp(x[from + i]! * scale - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}
function klRows(p: number[], q: number[]): number {
  let k = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) k += p[i]! * Math.log(p[i]! / q[i]!);
  return k;
}
/** Row-major `x·Wᵀ` for x `[n, in]`, W `[out, in]`. */
function project(x: ArrayLike<number>, w: ArrayLike<number>, n: number, i: number, o: number) {
  const y = new Float64Array(n * o);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < o; c++) {
      let s = 0;
      for (let k = 0; k < i; k++) s += x[r * i + k]! * w[c * i + k]!;
      y[r * o + c] = s;
    }
  return y;
}
/** Causal attention-like probabilities [B, H, T, T]. */
function causalProbs(rand: () => number, b: number, h: number, t: number): Float64Array {
  const out = new Float64Array(b * h * t * t);
  for (let r = 0; r < b * h * t; r++) {
    const q = r % t;
    const logits = uniformValues(rand, q + 1, -2, 2);
    const p = softmaxRow(logits, 0, q + 1);
    for (let j = 0; j <= q; j++) out[r * t + j] = p[j]!;
  }
  return out;
}

let ref: Device;
let gpu: Device;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  ref = await Device.open({ backend: 'cpu', float64: true });
  gpu = await Device.open({ backend: 'webgpu' });
});
afterAll(() => {
  ref.close();
  gpu.close();
});

const on = (d: Device, v: ArrayLike<number>, shape: number[]): Tensor =>
  fromArray(v, shape, { device: d });

describe('logitKl', () => {
  const rows = 6;
  const vocab = 5;
  const rand = rng(11);
  const s = uniformValues(rand, rows * vocab, -3, 3);
  const t = uniformValues(rand, rows * vocab, -3, 3);
  const oracle = (temperature: number): number => {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const p = softmaxRow(t, r * vocab, vocab, 1 / temperature);
      const q = softmaxRow(s, r * vocab, vocab, 1 / temperature);
      total += klRows(p, q);
    }
    return (temperature * temperature * total) / rows;
  };

  it('matches T²·KL(softmax(t/T) ‖ softmax(s/T)) and its gradient', async () => {
    for (const temperature of [1, 2.5]) {
      const got = await logitKl(on(ref, s, [2, 3, vocab]), on(ref, t, [2, 3, vocab]), {
        temperature,
      }).item();
      expectClose([got], [oracle(temperature)], { atol: 1e-12, rtol: 1e-10 }, `T=${temperature}`);
      const teacher = on(ref, t, [rows, vocab]);
      await gradCheck(ref, (x) => logitKl(x, teacher, { temperature }), [
        { values: s, shape: [rows, vocab] },
      ]);
    }
    // The same on WebGPU in f32.
    const got = await logitKl(on(gpu, s, [rows, vocab]), on(gpu, t, [rows, vocab]), {
      temperature: 2,
    }).item();
    expectClose([got], [oracle(2)], { atol: 1e-5, rtol: 1e-4 }, 'webgpu');
  });

  it('is zero for identical logits and sends no gradient to the teacher', async () => {
    const a = on(ref, s, [rows, vocab]);
    expect(Math.abs(await logitKl(a, a, { temperature: 3 }).item())).toBeLessThan(1e-12);
    const student = fromArray(s, [rows, vocab], { device: ref, requiresGrad: true });
    const teacher = fromArray(t, [rows, vocab], { device: ref, requiresGrad: true });
    logitKl(student, teacher).backward();
    expect(student.grad).not.toBeNull();
    expect(teacher.grad).toBeNull();
  });

  it('mixes with hard-label cross-entropy', async () => {
    const targets = [0, 4, 2, 1, 3, 3];
    let ce = 0;
    for (let r = 0; r < rows; r++) ce -= Math.log(softmaxRow(s, r * vocab, vocab)[targets[r]!]!);
    ce /= rows;
    const tt = fromArray(targets, [rows], { device: ref, dtype: 'i32' });
    const got = await logitDistillationLoss(
      on(ref, s, [rows, vocab]),
      on(ref, t, [rows, vocab]),
      tt,
      {
        temperature: 2,
        hardWeight: 0.3,
      },
    ).item();
    expectClose([got], [0.7 * oracle(2) + 0.3 * ce], { atol: 1e-12, rtol: 1e-10 }, 'mix');
    expectClose([await hardLabelLoss(on(ref, s, [rows, vocab]), tt).item()], [ce], {
      atol: 1e-12,
      rtol: 1e-10,
    });
    await gradCheck(
      ref,
      (x) =>
        logitDistillationLoss(x, on(ref, t, [rows, vocab]), tt, {
          hardWeight: 0.4,
          temperature: 1.5,
        }),
      [{ values: s, shape: [rows, vocab] }],
    );
  });

  it('rejects bad arguments with the argument named', () => {
    const a = on(ref, s, [rows, vocab]);
    expect(() => logitKl(a, on(ref, t, [3, 10]))).toThrow(
      /teacher has shape \[3,10\]; expected \[6,5\]/,
    );
    expect(() => logitKl(a, a, { temperature: 0 })).toThrow(/temperature is 0/);
    expect(() => logitDistillationLoss(a, a, null, { hardWeight: 0.5 })).toThrow(/targets is null/);
    expect(() => logitDistillationLoss(a, a, null, { hardWeight: 2 })).toThrow(/hardWeight is 2/);
  });
});

describe('hiddenMse and cosineEmbeddingLoss', () => {
  const n = 6; // B·T
  const sw = 4;
  const tw = 6;
  const rand = rng(5);
  const s = uniformValues(rand, n * sw);
  const t = uniformValues(rand, n * tw);
  const makeProjection = () =>
    new Linear(sw, tw, { device: ref, generator: new Generator(9), initStd: 0.5 });

  it('hidden MSE through a projection matches mean((s·Wᵀ − t)²), with gradients', async () => {
    const proj = makeProjection();
    const w = await proj.weight.toArray();
    const y = project(s, w, n, sw, tw);
    let mse = 0;
    for (let i = 0; i < y.length; i++) mse += (y[i]! - t[i]!) ** 2;
    mse /= y.length;
    const got = await hiddenMse(on(ref, s, [2, 3, sw]), on(ref, t, [2, 3, tw]), proj).item();
    expectClose([got], [mse], { atol: 1e-12, rtol: 1e-10 }, 'mse');
    const teacher = on(ref, t, [2, 3, tw]);
    await gradCheck(ref, (x) => hiddenMse(x, teacher, proj), [{ values: s, shape: [2, 3, sw] }]);
    // Equal widths need no projection.
    const plain = await hiddenMse(on(ref, t, [n, tw]), on(ref, y, [n, tw])).item();
    expectClose([plain], [mse], { atol: 1e-12, rtol: 1e-10 }, 'no projection');
    // The projection learns: its weight gets a gradient.
    const x = on(ref, s, [n, sw]);
    hiddenMse(x, on(ref, t, [n, tw]), proj).backward();
    expect(proj.weight.grad).not.toBeNull();
    expect(() => hiddenMse(on(ref, s, [n, sw]), on(ref, t, [n, tw]))).toThrow(
      /student width 4 differs from teacher width 6/,
    );
    expect(() =>
      hiddenMse(on(ref, s, [n, sw]), on(ref, t, [n, tw]), new Linear(4, 5, { device: ref })),
    ).toThrow(/projection maps 4 → 5; expected 4 → 6/);
    expect(() => hiddenMse(on(ref, s, [3, 2, sw]), on(ref, t, [2, 3, tw]), proj)).toThrow(
      /expected leading dims \[3,2\]/,
    );
  });

  it('cosine loss matches mean(1 − cos), with gradients', async () => {
    const proj = makeProjection();
    const w = await proj.weight.toArray();
    const y = project(s, w, n, sw, tw);
    let total = 0;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      let a = 0;
      let b = 0;
      for (let c = 0; c < tw; c++) {
        dot += y[r * tw + c]! * t[r * tw + c]!;
        a += y[r * tw + c]! ** 2;
        b += t[r * tw + c]! ** 2;
      }
      total += 1 - dot / Math.sqrt(a * b);
    }
    const got = await cosineEmbeddingLoss(on(ref, s, [n, sw]), on(ref, t, [n, tw]), {
      projection: proj,
    }).item();
    expectClose([got], [total / n], { atol: 1e-12, rtol: 1e-10 }, 'cosine');
    const teacher = on(ref, t, [n, tw]);
    await gradCheck(ref, (x) => cosineEmbeddingLoss(x, teacher, { projection: proj }), [
      { values: s, shape: [n, sw] },
    ]);
    // Parallel vectors give 0.
    const scaled = Float64Array.from(t, (v) => 3 * v);
    expect(await cosineEmbeddingLoss(on(ref, scaled, [n, tw]), teacher).item()).toBeLessThan(1e-12);
  });
});

describe('attentionKl', () => {
  const [b, t] = [2, 4];
  const rand = rng(21);
  const student = causalProbs(rand, b, 2, t);
  const teacher = causalProbs(rand, b, 4, t);

  const oracle = (
    sp: Float64Array,
    hs: number,
    tp: Float64Array,
    ht: number,
    rule: 'group' | 'mean',
  ) => {
    const row = (x: Float64Array, h: number, bi: number, hi: number, q: number) =>
      Array.from(x.subarray(((bi * h + hi) * t + q) * t, ((bi * h + hi) * t + q + 1) * t));
    const avg = (rowsOf: number[][]) =>
      rowsOf[0]!.map((_, j) => rowsOf.reduce((a, r) => a + r[j]!, 0) / rowsOf.length);
    let total = 0;
    let count = 0;
    for (let bi = 0; bi < b; bi++) {
      const outHeads = rule === 'mean' ? 1 : hs;
      for (let hi = 0; hi < outHeads; hi++) {
        for (let q = 0; q < t; q++) {
          const sRow =
            rule === 'mean'
              ? avg(Array.from({ length: hs }, (_, k) => row(sp, hs, bi, k, q)))
              : row(sp, hs, bi, hi, q);
          const g = ht / outHeads;
          const tRow = avg(Array.from({ length: g }, (_, k) => row(tp, ht, bi, hi * g + k, q)));
          total += klRows(tRow, sRow);
          count++;
        }
      }
    }
    return total / count;
  };

  it('averages groups of teacher heads (4 → 2) and matches the KL per query row', async () => {
    const got = await attentionKl(
      on(ref, student, [b, 2, t, t]),
      on(ref, teacher, [b, 4, t, t]),
    ).item();
    expectClose(
      [got],
      [oracle(student, 2, teacher, 4, 'group')],
      { atol: 1e-12, rtol: 1e-9 },
      'group',
    );
    const tt = on(ref, teacher, [b, 4, t, t]);
    await gradCheck(ref, (x) => attentionKl(x, tt), [{ values: student, shape: [b, 2, t, t] }]);
  });

  it("averages all heads with heads: 'mean' and equals 0 against itself", async () => {
    const three = causalProbs(rng(3), b, 3, t);
    const got = await attentionKl(on(ref, three, [b, 3, t, t]), on(ref, teacher, [b, 4, t, t]), {
      heads: 'mean',
    }).item();
    expectClose([got], [oracle(three, 3, teacher, 4, 'mean')], { atol: 1e-12, rtol: 1e-9 }, 'mean');
    const same = on(ref, teacher, [b, 4, t, t]);
    expect(Math.abs(await attentionKl(same, same).item())).toBeLessThan(1e-12);
    expect(() => attentionKl(on(ref, three, [b, 3, t, t]), same)).toThrow(
      /teacher has 4 heads, not a multiple of the student's 3; use heads: 'mean'/,
    );
    expect(() => attentionKl(on(ref, three, [b, 3, t * t]), same)).toThrow(
      /student has shape \[2,3,16\]/,
    );
  });
});

describe('relationKl', () => {
  const [b, t] = [2, 4];
  const rand = rng(8);
  const s = uniformValues(rand, b * t * 4);
  const tv = uniformValues(rand, b * t * 6);

  /** log of the causal relation softmax [B, R, T, T] from states [B, T, D]. */
  const relation = (x: Float64Array, d: number, r: number): number[][] => {
    const dr = d / r;
    const rows: number[][] = [];
    for (let bi = 0; bi < b; bi++)
      for (let h = 0; h < r; h++)
        for (let i = 0; i < t; i++) {
          const scores: number[] = [];
          for (let j = 0; j <= i; j++) {
            let dot = 0;
            for (let k = 0; k < dr; k++)
              dot += x[(bi * t + i) * d + h * dr + k]! * x[(bi * t + j) * d + h * dr + k]!;
            scores.push(dot / Math.sqrt(dr));
          }
          rows.push(softmaxRow(scores, 0, scores.length));
        }
    return rows;
  };

  it('matches KL between causal softmax(X Xᵀ/√d) relations of different widths, with gradients', async () => {
    for (const heads of [1, 2]) {
      const rs = relation(s, 4, heads);
      const rt = relation(tv, 6, heads);
      const expected = rs.reduce((a, row, i) => a + klRows(rt[i]!, row), 0) / rs.length;
      const got = await relationKl(on(ref, s, [b, t, 4]), on(ref, tv, [b, t, 6]), {
        relationHeads: heads,
      }).item();
      expectClose([got], [expected], { atol: 1e-12, rtol: 1e-9 }, `R=${heads}`);
    }
    const teacher = on(ref, tv, [b, t, 6]);
    await gradCheck(ref, (x) => relationKl(x, teacher, { relationHeads: 2 }), [
      { values: s, shape: [b, t, 4] },
    ]);
    expect(() => relationKl(on(ref, s, [b, t, 4]), teacher, { relationHeads: 4 })).toThrow(
      /teacher width 6 is not divisible by relationHeads 4/,
    );
  });
});

describe('every loss on WebGPU and wasm', () => {
  it('agrees with the float64 reference in f32', async () => {
    const { Device } = await import('@fathom/tensor-core');
    const wasm = await Device.open({ backend: 'wasm' });
    const rand = rng(99);
    const [b, t] = [2, 5];
    const hs = uniformValues(rand, b * t * 8);
    const ht = uniformValues(rand, b * t * 12);
    const ps = causalProbs(rand, b, 2, t);
    const pt = causalProbs(rand, b, 4, t);
    const logitsS = uniformValues(rand, b * t * 7, -3, 3);
    const logitsT = uniformValues(rand, b * t * 7, -3, 3);
    const run = async (d: Device): Promise<number[]> => {
      const proj = new Linear(8, 12, { device: d, generator: new Generator(4), initStd: 0.3 });
      const sH = on(d, hs, [b, t, 8]);
      const tH = on(d, ht, [b, t, 12]);
      const out = [
        logitKl(on(d, logitsS, [b, t, 7]), on(d, logitsT, [b, t, 7]), { temperature: 2 }),
        hiddenMse(sH, tH, proj),
        cosineEmbeddingLoss(sH, tH, { projection: proj }),
        attentionKl(on(d, ps, [b, 2, t, t]), on(d, pt, [b, 4, t, t])),
        relationKl(sH, tH, { relationHeads: 2 }),
      ];
      const values = await Promise.all(out.map((x) => x.item()));
      proj.dispose();
      return values;
    };
    const expected = await run(ref);
    for (const d of [gpu, wasm]) {
      expectClose(await run(d), expected, { atol: 1e-5, rtol: 1e-4 }, d.name);
    }
    wasm.close();
  });
});
