import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device } from '@fathom/tensor-core';
import { DistillationSchedule, freezeTeacher, mapLayers } from './index.js';
import { charModel, trainDistilled, trainPlain, validationLoss } from './test-support/train.js';

let device: Device;
beforeAll(async () => {
  const { Device } = await import('@fathom/tensor-core');
  // The WebAssembly backend: several times faster than lavapipe's WebGPU for models this small.
  device = await Device.open({ backend: 'wasm' });
});
afterAll(() => device.close());

const TEACHER = { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 2 };
const STUDENT = { hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2 };
const STEPS = 60;
const LR = 1e-2;

describe('distilling a small student from a trained teacher', () => {
  it('reaches a lower validation loss than the same student trained from scratch', async () => {
    const baseline = device.memory();
    const teacher = freezeTeacher(await trainPlain(device, charModel(TEACHER, 1), 150, LR));
    const teacherLoss = await validationLoss(device, teacher.model);
    teacher.model.eval();

    const scratch = await trainPlain(device, charModel(STUDENT, 2), STEPS, LR);
    const scratchLoss = await validationLoss(device, scratch);

    const schedule = new DistillationSchedule([
      { kind: 'logits', steps: STEPS, temperature: 2, weights: { hard: 0.5 } },
    ]);
    const pairs = mapLayers(STUDENT.numLayers, TEACHER.numLayers, { kind: 'uniform' });
    const student = await trainDistilled(
      device,
      charModel(STUDENT, 2),
      teacher,
      schedule,
      pairs,
      LR,
    );
    const distilledLoss = await validationLoss(device, student);

    console.log(
      `validation loss: teacher ${teacherLoss.toFixed(3)}, scratch student ${scratchLoss.toFixed(3)}, distilled student ${distilledLoss.toFixed(3)} (${STEPS} steps)`,
    );
    // The teacher has something to teach, and the student learns it.
    expect(teacherLoss).toBeLessThan(scratchLoss);
    expect(distilledLoss).toBeLessThan(scratchLoss);
    for (const m of [scratch, student]) m.dispose();
    teacher.dispose();
    expect(device.memory().liveTensors).toBe(baseline.liveTensors);
    expect(device.memory().liveBytes).toBe(baseline.liveBytes);
  });
});
