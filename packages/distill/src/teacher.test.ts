import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CausalLm, saveSafetensors, toHfConfig } from '@fathom/nn-layers';
import { type Device, scope } from '@fathom/tensor-core';
import { AdamW } from '@fathom/optim';
import {
  DistillationProjections,
  DistillationSchedule,
  distillationLoss,
  loadTeacher,
  mapLayers,
} from './index.js';
import { batchOf } from './test-support/corpus.js';
import { charModel } from './test-support/train.js';

let device: Device;
let dir: string;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  device = await Device.open({ backend: 'wasm' });
  dir = await mkdtemp(join(tmpdir(), 'fathom-distill-'));
});
afterAll(async () => {
  device.close();
  await rm(dir, { recursive: true, force: true });
});

const TEACHER = charModel({ hiddenSize: 32, intermediateSize: 64, numLayers: 4, numHeads: 4 }, 5);
const STUDENT = charModel({ hiddenSize: 16, intermediateSize: 32, numLayers: 2, numHeads: 2 }, 6);

/** Writes a model as the trainer's `<run>/final/` does: config.json + model.safetensors. */
async function exportModel(model: CausalLm, config: typeof TEACHER, to: string): Promise<void> {
  await writeFile(join(to, 'config.json'), JSON.stringify(toHfConfig(config), null, 2));
  await saveSafetensors(join(to, 'model.safetensors'), model.stateDict());
}

describe('loadTeacher and the frozen teacher', () => {
  it('loads a Hugging Face folder into a frozen, eval-mode model with the same outputs', async () => {
    const original = new CausalLm(TEACHER, { device });
    await exportModel(original, TEACHER, dir);
    const before = device.memory().liveBytes;
    const teacher = await loadTeacher(dir, device);
    // Memory accounting: parameters exactly, plus the blocks' RoPE tables in the resident figure.
    expect(teacher.parameterBytes).toBe(original.numParameters() * 4);
    expect(teacher.residentBytes).toBe(device.memory().liveBytes - before);
    expect(teacher.residentBytes!).toBeGreaterThanOrEqual(teacher.parameterBytes);
    expect(teacher.residentBytes! - teacher.parameterBytes).toBeLessThan(
      teacher.parameterBytes / 10,
    );
    expect(teacher.model.training).toBe(false);
    expect(teacher.model.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(teacher.numLayers).toBe(4);
    const [want, got] = await scope(async () => {
      const { ids } = batchOf(device, 'train', 0, 2, 8);
      original.eval();
      const a = await original.forward(ids).toArray();
      const out = teacher.forward(ids, { hidden: [2], attention: [1] });
      expect(out.hidden.get(2)!.shape).toEqual([2, 8, 32]);
      expect(out.attention.get(1)!.shape).toEqual([2, 4, 8, 8]);
      expect(out.logits.requiresGrad).toBe(false);
      return [a, await out.logits.toArray()];
    });
    expect(Array.from(got)).toEqual(Array.from(want));
    original.dispose();
    teacher.dispose();
  });

  it('reports missing or malformed folders clearly', async () => {
    await expect(loadTeacher(join(dir, 'nope'), device)).rejects.toThrow(
      /cannot read .*nope\/config\.json.*Hugging Face model folder/,
    );
    const bad = await mkdtemp(join(tmpdir(), 'fathom-distill-bad-'));
    await writeFile(join(bad, 'config.json'), '{not json');
    await expect(loadTeacher(bad, device)).rejects.toThrow(/config\.json is not valid JSON/);
    await writeFile(join(bad, 'config.json'), JSON.stringify(toHfConfig(TEACHER)));
    await expect(loadTeacher(bad, device)).rejects.toThrow(/loadTeacher: .*model\.safetensors/);
    await rm(bad, { recursive: true, force: true });
  });

  it('receives no gradient and stays unchanged through staged training; nothing leaks', async () => {
    const baseline = device.memory();
    const teacher = await loadTeacher(dir, device);
    const snapshot = new Map<string, number[]>();
    for (const [name, p] of teacher.model.namedParameters())
      snapshot.set(name, Array.from(await p.toArray()));
    const student = new CausalLm(STUDENT, { device });
    const pairs = mapLayers(2, 4, { kind: 'uniform' });
    const projections = DistillationProjections.between(student, teacher.model, pairs, { device });
    expect(projections.forLayer(1)!.weight.shape).toEqual([32, 16]);
    const optimizer = new AdamW([...student.parameters(), ...projections.parameters()], {
      lr: 1e-2,
    });
    const schedule = new DistillationSchedule([
      { kind: 'features', steps: 2, weights: { cosine: 0.5 } },
      { kind: 'attention', steps: 2, weights: { relation: 1 } },
      { kind: 'logits', steps: 2, temperature: 2, weights: { hard: 0.5 } },
    ]);
    const memory: number[] = [];
    const seenTerms: string[][] = [];
    // Two passes: the optimizer creates moments lazily (lm_head first gets a gradient in the
    // logits stage), so memory is steady from the end of the first pass on.
    for (let step = 0; step < 2 * schedule.totalSteps; step++) {
      const values = await scope(async () => {
        const batch = batchOf(device, 'train', step, 4, 12);
        // A whole-tree train() (as a trainer might call) must not unfreeze or un-eval the teacher.
        teacher.model.train();
        const { loss, terms } = distillationLoss(
          student,
          teacher,
          batch,
          schedule.stageAt(step % schedule.totalSteps),
          {
            pairs,
            projections,
            heads: 'group',
            relationHeads: 2,
          },
        );
        loss.backward();
        for (const p of teacher.model.parameters()) expect(p.grad).toBeNull();
        expect(student.model.embed.weight.grad).not.toBeNull();
        // The projections learn in the feature stages only.
        const stageKind = schedule.stageAt(step % schedule.totalSteps).kind;
        expect(projections.forLayer(2)!.weight.grad !== null).toBe(stageKind === 'features');
        await optimizer.step();
        optimizer.zeroGrad();
        seenTerms.push(Object.keys(terms).sort());
        return loss.item();
      });
      expect(Number.isFinite(values)).toBe(true);
      if (step >= schedule.totalSteps - 1)
        memory.push(device.memory().liveTensors * 1e9 + device.memory().liveBytes);
    }
    expect(seenTerms.slice(0, 6)).toEqual([
      ['cosine', 'hidden'],
      ['cosine', 'hidden'],
      ['attention', 'relation'],
      ['attention', 'relation'],
      ['hard', 'logits'],
      ['hard', 'logits'],
    ]);
    expect(new Set(memory).size, memory.join(', ')).toBe(1);
    for (const [name, p] of teacher.model.namedParameters()) {
      expect(Array.from(await p.toArray()), name).toEqual(snapshot.get(name));
      expect(p.requiresGrad).toBe(false);
    }
    scope(() => {
      const batch = batchOf(device, 'train', 0, 1, 4);
      expect(() => distillationLoss(student, teacher, batch, schedule.stageAt(0))).toThrow(
        /options.pairs is empty/,
      );
    });
    optimizer.dispose();
    projections.dispose();
    student.dispose();
    teacher.dispose();
    expect(device.memory().liveTensors).toBe(baseline.liveTensors);
    expect(device.memory().liveBytes).toBe(baseline.liveBytes);
  });
});
