import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Device,
  type Tensor,
  type WebGpuBackend,
  add,
  mul,
  scope,
  sum,
} from '@fathom/tensor-core';
import {
  TOLERANCE,
  expectClose,
  openTestDevices,
  rng,
  uniformValues,
  type TestDevices,
} from '@fathom/tensor-core/testing';
import { clipGradAdaptive, clipGradNorm, gradNormReport, normsOf } from './index.js';
import { normReference, param, setGrad } from './test-support/reference.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

const SIZES = [300, 1, 70000, 17];

function withGrads(
  device: Device,
  seed: number,
  scale = 1,
): { params: Tensor[]; grads: Float64Array[] } {
  const rand = rng(seed);
  const grads = SIZES.map((n) => uniformValues(rand, n, -scale, scale));
  const params = SIZES.map((n, k) => {
    const p = param(device, uniformValues(rand, n), [n]);
    setGrad(p, grads[k]!);
    return p;
  });
  return { params, grads };
}

const tolFor = (device: Device): { atol: number; rtol: number } =>
  device.kind === 'webgpu' ? { atol: 1e-5, rtol: 1e-5 } : { atol: 1e-12, rtol: 1e-12 };

describe('clipGradNorm', () => {
  for (const normType of [2, 1, Infinity, 3]) {
    it(`returns the total ${normType}-norm as a device tensor and clips to maxNorm`, async () => {
      for (const device of [d.ref, d.gpu]) {
        const { params, grads } = withGrads(device, 7);
        const want = normReference(grads, normType);
        const maxNorm = want / 4;
        const norm = clipGradNorm(params, maxNorm, { normType });
        expect(norm.shape).toEqual([]);
        expectClose([await norm.item()], [want], tolFor(device), `${device.kind} total norm`);
        const clipped = await Promise.all(params.map(async (p) => p.grad!.toArray()));
        const coef = maxNorm / (want + 1e-6);
        expectClose(
          [normReference(clipped, normType)],
          [want * coef],
          tolFor(device),
          'clipped norm',
        );
        clipped.forEach((c, k) =>
          expectClose(
            c,
            grads[k]!.map((g) => g * coef),
            { atol: 1e-6, rtol: 1e-5 },
            `grad ${k}`,
          ),
        );
        norm.dispose();
        params.forEach((p) => p.dispose());
      }
    });
  }

  it('leaves gradients below maxNorm unchanged', async () => {
    const { params, grads } = withGrads(d.gpu, 8);
    const norm = clipGradNorm(params, 1e6);
    for (const [k, p] of params.entries())
      expectClose(await p.grad!.toArray(), grads[k]!, TOLERANCE.f32, `grad ${k}`);
    norm.dispose();
    params.forEach((p) => p.dispose());
  });

  it('reads nothing back: it only encodes work', () => {
    const backend = d.gpu.backend as WebGpuBackend;
    const { params } = withGrads(d.gpu, 9);
    d.gpu.flush();
    const submits = backend.submits;
    const norm = clipGradNorm(params, 1);
    expect(backend.submits).toBe(submits);
    norm.dispose();
    params.forEach((p) => p.dispose());
  });

  it('scales a gradient shared by two parameters once, and handles broadcast gradients', async () => {
    for (const device of [d.ref, d.gpu]) {
      const a = param(device, [1, 2, 3], [3]);
      const b = param(device, [4, 5, 6], [3]);
      const c = param(device, [1, 1], [2]);
      scope(() => {
        // d(sum(3·(a + b)))/da = d/db = 3 (one storage for both); d(sum(c))/dc is a broadcast view.
        sum(mul(add(a, b), 3)).backward();
        sum(c).backward();
      });
      expect(a.grad!.storage).toBe(b.grad!.storage);
      const want = normReference(
        [
          [3, 3, 3],
          [3, 3, 3],
          [1, 1],
        ],
        2,
      );
      const norm = clipGradNorm([a, b, c], 1);
      expectClose([await norm.item()], [want], tolFor(device), 'norm');
      const coef = 1 / (want + 1e-6);
      expectClose(
        await a.grad!.toArray(),
        [3, 3, 3].map((x) => x * coef),
        TOLERANCE.f32,
        'a',
      );
      expectClose(
        await b.grad!.toArray(),
        [3, 3, 3].map((x) => x * coef),
        TOLERANCE.f32,
        'b',
      );
      expectClose(await c.grad!.toArray(), [coef, coef], TOLERANCE.f32, 'c');
      norm.dispose();
      [a, b, c].forEach((t) => t.dispose());
    }
  });

  it('skips parameters without gradients and names bad arguments', async () => {
    const p = param(d.ref, [1, 2], [2]);
    const none = clipGradNorm([p], 1);
    expect(await none.item()).toBe(0);
    none.dispose();
    expect(() => clipGradNorm([p], -1)).toThrow(
      'clipGradNorm: maxNorm is -1; expected a finite number >= 0',
    );
    setGrad(p, [3, 4]);
    expect(() => clipGradNorm([p], 1, { normType: 0 })).toThrow(
      'clipGradNorm: normType is 0; expected a number > 0',
    );
    p.dispose();
  });
});

describe('clipGradAdaptive', () => {
  it('scales each gradient to clip·max(‖p‖, eps) when it exceeds that, else leaves it', async () => {
    for (const device of [d.ref, d.gpu]) {
      const rand = rng(4);
      // Large, small, and a zero parameter (eps floor).
      const pv = [uniformValues(rand, 50), uniformValues(rand, 40), new Float64Array(30)];
      const gv = [
        uniformValues(rand, 50, -5, 5),
        uniformValues(rand, 40, -1e-3, 1e-3),
        uniformValues(rand, 30),
      ];
      const params = pv.map((v, k) => {
        const p = param(device, v, [v.length]);
        setGrad(p, gv[k]!);
        return p;
      });
      const clip = 0.05;
      const eps = 1e-3;
      clipGradAdaptive(params, clip, { eps });
      for (const [k, p] of params.entries()) {
        const limit = clip * Math.max(normReference([pv[k]!], 2), eps);
        const gn = normReference([gv[k]!], 2);
        const scale = gn > limit ? limit / gn : 1;
        const got = await p.grad!.toArray();
        expectClose(
          got,
          gv[k]!.map((g) => g * scale),
          { atol: 1e-7, rtol: 1e-5 },
          `${device.kind} grad ${k}`,
        );
        if (gn > limit)
          expectClose([normReference([got], 2)], [limit], { atol: 1e-9, rtol: 1e-5 }, 'norm');
      }
      expect(normReference([gv[1]!], 2)).toBeLessThan(clip * normReference([pv[1]!], 2));
      params.forEach((p) => p.dispose());
    }
  });
});

describe('normsOf and gradNormReport', () => {
  it('computes per-tensor norms into one tensor', async () => {
    const { params, grads } = withGrads(d.gpu, 12);
    const { norms, total } = normsOf(params.map((p) => p.grad!));
    expectClose(
      await norms.toArray(),
      grads.map((g) => normReference([g], 2)),
      { atol: 1e-5, rtol: 1e-5 },
      'norms',
    );
    expectClose(
      [await total.item()],
      [normReference(grads, 2)],
      { atol: 1e-5, rtol: 1e-5 },
      'total',
    );
    [norms, total, ...params].forEach((t) => t.dispose());
  });

  it('reports parameters and layers with a single readback', async () => {
    const backend = d.gpu.backend as WebGpuBackend;
    const names = [
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.1.self_attn.q_proj.weight',
      'model.layers.1.input_layernorm.weight',
      'model.norm.weight',
      'lm_head.weight',
    ];
    const rand = rng(2);
    const grads = names.map(() => uniformValues(rand, 33));
    const params = names.map((_, k) => {
      const p = param(d.gpu, uniformValues(rand, 33), [33]);
      if (k !== 6) setGrad(p, grads[k]!);
      return p;
    });
    d.gpu.flush();
    const submits = backend.submits;
    const report = await gradNormReport(names.map((n, k) => [n, params[k]!] as const));
    expect(backend.submits - submits).toBe(1);
    const norm = (ks: number[]): number =>
      normReference(
        ks.map((k) => grads[k]!),
        2,
      );
    expect(report.missing).toEqual(['lm_head.weight']);
    expect(report.parameters.map((p) => p.name)).toEqual(names.slice(0, 6));
    expectClose(
      report.parameters.map((p) => p.norm),
      [0, 1, 2, 3, 4, 5].map((k) => norm([k])),
      { atol: 1e-5, rtol: 1e-5 },
      'params',
    );
    expect(report.layers.map((l) => [l.layer, l.parameters])).toEqual([
      ['0', 2],
      ['1', 2],
    ]);
    expectClose(
      report.layers.map((l) => l.norm),
      [norm([1, 2]), norm([3, 4])],
      { atol: 1e-5, rtol: 1e-5 },
      'layers',
    );
    expectClose([report.total], [norm([0, 1, 2, 3, 4, 5])], { atol: 1e-5, rtol: 1e-5 }, 'total');
    params.forEach((p) => p.dispose());
  });
});
