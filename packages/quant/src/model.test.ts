import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, type Tensor, fromArray, noGrad } from '@fathom/tensor-core';
import { expectClose, rng } from '@fathom/tensor-core/testing';
import { CausalLm, type CausalLmConfig, Linear } from '@fathom/nn-layers';
import { Device as TcDevice } from '@fathom/tensor-core';
import { QUANT_METADATA_KEY, loadQuantizedModel, saveQuantizedModel } from './checkpoint.js';
import { QuantLinear } from './quant-linear.js';
import { dequantizeMatrix, quantizeMatrix } from './quantize.js';
import { quantizeModel } from './quantize-model.js';
import type { QuantScheme } from './scheme.js';
import { parseSafetensors } from '@fathom/nn-layers';
import { readFile } from 'node:fs/promises';

const CONFIG: CausalLmConfig = {
  vocabSize: 40,
  hiddenSize: 64,
  intermediateSize: 96,
  numLayers: 2,
  numHeads: 4,
  maxPositionEmbeddings: 32,
  seed: 11,
};

let device: Device;
let dir: string;
beforeAll(async () => {
  device = await TcDevice.open({ backend: 'cpu' });
  dir = await mkdtemp(join(tmpdir(), 'fathom-quant-'));
});
afterAll(async () => {
  device.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (): Tensor => {
  const r = rng(4);
  return fromArray(
    Array.from({ length: 2 * 12 }, () => Math.floor(r() * CONFIG.vocabSize)),
    [2, 12],
    { device, dtype: 'i32' },
  );
};

const logits = async (model: CausalLm): Promise<Float32Array> => {
  const x = ids();
  const y = noGrad(() => model.forward(x));
  const out = (await y.toArray()) as Float32Array;
  x.dispose();
  y.dispose();
  return out;
};

/**
 * Tensors a plain CausalLm leaves behind after create → forward → dispose (nn-layers keeps
 * a couple alive; measured here so the leak check below covers only what quant adds).
 */
async function plainResidual(): Promise<number> {
  const before = device.memory().liveTensors;
  const m = new CausalLm(CONFIG, { device }).eval();
  await logits(m);
  m.dispose();
  return device.memory().liveTensors - before;
}

describe('quantizeModel and quantised checkpoints', () => {
  for (const scheme of [
    { kind: 'int4', groupSize: 32 },
    { kind: 'mixed', groupSize: 32, percentile: 70 },
    { kind: 'int8', granularity: 'channel' },
  ] as QuantScheme[])
    it(`${JSON.stringify(scheme)}: equals the dequantised float model, shrinks, and round-trips through safetensors`, async () => {
      const residual = await plainResidual();
      const baseline = device.memory().liveTensors;
      const model = new CausalLm(CONFIG, { device }).eval();
      // Oracle model: same weights, each target Linear's weight replaced by its dequantised copy.
      const oracle = new CausalLm(CONFIG, { device }).eval();
      const state = new Map<string, Tensor>();
      for (const [name, m] of model.namedModules()) {
        if (!(m instanceof Linear) || name === 'lm_head') continue;
        const q = quantizeMatrix(await m.weight.toArray(), m.outFeatures, m.inFeatures, scheme);
        state.set(
          `${name}.weight`,
          fromArray(dequantizeMatrix(q), [m.outFeatures, m.inFeatures], { device }),
        );
      }
      oracle.loadStateDict(state, { strict: false });
      for (const t of state.values()) t.dispose();

      const report = await quantizeModel(model, { scheme });
      expect(report.layers).toHaveLength(2 * 7);
      expect(report.layers).not.toContain('lm_head');
      expect(model.getSubmodule('model.layers.0.self_attn.q_proj')).toBeInstanceOf(QuantLinear);
      expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
      const quantised = await logits(model);
      expectClose(
        quantised,
        await logits(oracle),
        { atol: 1e-4, rtol: 1e-4 },
        'vs dequantised model',
      );

      const file = join(dir, `${scheme.kind}.safetensors`);
      await saveQuantizedModel(model, file, { config: JSON.stringify(CONFIG) });
      const parsed = parseSafetensors(new Uint8Array(await readFile(file)));
      expect(parsed.tensors.get('model.layers.0.mlp.up_proj.qweight.0.codes')!.dtype).toBe('U32');
      expect(parsed.tensors.get('model.layers.0.mlp.up_proj.qweight.0.scales')!.dtype).toBe('F32');
      expect(
        JSON.parse(parsed.metadata[QUANT_METADATA_KEY]!).layers['model.layers.1.mlp.down_proj']
          .scheme,
      ).toEqual(
        model.getSubmodule('model.layers.1.mlp.down_proj') instanceof QuantLinear
          ? (model.getSubmodule('model.layers.1.mlp.down_proj') as QuantLinear).weight.scheme
          : null,
      );
      const fresh = new CausalLm({ ...CONFIG, seed: 99 }, { device }).eval();
      const loaded = await loadQuantizedModel(fresh, file);
      expect(loaded.layers.sort()).toEqual([...report.layers].sort());
      expect(loaded.metadata.config).toBe(JSON.stringify(CONFIG));
      expect(Array.from(await logits(fresh))).toEqual(Array.from(quantised));
      for (const m of [model, oracle, fresh]) m.dispose();
      expect(device.memory().liveTensors).toBe(baseline + 3 * residual);
    });

  it('includes lm_head on request and reports clear errors', async () => {
    const model = new CausalLm(CONFIG, { device });
    const report = await quantizeModel(model, {
      scheme: { kind: 'int4', groupSize: 64 },
      targets: ['lm_head'],
      includeLmHead: true,
    });
    expect(report.layers).toEqual(['lm_head']);
    await expect(
      quantizeModel(model, { scheme: { kind: 'int4', groupSize: 64 }, targets: ['nothing'] }),
    ).rejects.toThrow(/no Linear layer matches/);
    await expect(
      loadQuantizedModel(new CausalLm(CONFIG, { device }), join(dir, 'missing.safetensors')),
    ).rejects.toThrow();
    const plain = new CausalLm(CONFIG, { device });
    await expect(saveQuantizedModel(plain, join(dir, 'x.safetensors'))).rejects.toThrow(
      /no QuantLinear layer/,
    );
    model.dispose();
    plain.dispose();
  });
});
