/**
 * Step-time overhead of distillation over plain training of the same student:
 * one optimizer step (forward, backward, AdamW) per row, median of timed steps.
 * Usage: pnpm bench [-- wasm|webgpu]
 */
import { CausalLm } from '@fathom/nn-layers';
import { AdamW } from '@fathom/optim';
import { Device, type Tensor, fromArray, scope } from '@fathom/tensor-core';
import {
  DistillationProjections,
  type DistillationStage,
  DistillationSchedule,
  distillationLoss,
  freezeTeacher,
  mapLayers,
} from '../src/index.js';

const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'webgpu';
const VOCAB = 256;
const [ROWS, LENGTH] = [8, 64];
const TEACHER = { hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4 };
const STUDENT = { hiddenSize: 64, intermediateSize: 172, numLayers: 2, numHeads: 2 };
const [WARMUP, TIMED] = [3, 10];

const device = await Device.open({ backend });
const config = (size: typeof TEACHER, seed: number) => ({
  vocabSize: VOCAB,
  maxPositionEmbeddings: LENGTH,
  seed,
  ...size,
});
const teacher = freezeTeacher(new CausalLm(config(TEACHER, 1), { device }));
const student = new CausalLm(config(STUDENT, 2), { device });
const pairs = mapLayers(STUDENT.numLayers, TEACHER.numLayers, { kind: 'uniform' });
const projections = DistillationProjections.between(student, teacher.model, pairs, { device });
const optimizer = new AdamW([...student.parameters(), ...projections.parameters()], { lr: 1e-3 });

function batch(step: number): { ids: Tensor; targets: Tensor } {
  const ids = Array.from({ length: ROWS * (LENGTH + 1) }, (_, i) => (i * 31 + step * 7) % VOCAB);
  const x: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < ROWS; r++)
    for (let t = 0; t < LENGTH; t++) {
      x.push(ids[r * (LENGTH + 1) + t]!);
      y.push(ids[r * (LENGTH + 1) + t + 1]!);
    }
  return {
    ids: fromArray(x, [ROWS, LENGTH], { device, dtype: 'i32' }),
    targets: fromArray(y, [ROWS, LENGTH], { device, dtype: 'i32' }),
  };
}

async function timeSteps(lossOf: (b: { ids: Tensor; targets: Tensor }) => Tensor): Promise<number> {
  const times: number[] = [];
  for (let step = 0; step < WARMUP + TIMED; step++) {
    const start = performance.now();
    await scope(async () => {
      const loss = lossOf(batch(step));
      loss.backward();
      await optimizer.step();
      optimizer.zeroGrad();
      await loss.item();
    });
    if (step >= WARMUP) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const stages = new DistillationSchedule([
  { kind: 'features', steps: 1, weights: { cosine: 1 } },
  { kind: 'attention', steps: 1, weights: { relation: 1 } },
  { kind: 'logits', steps: 1, temperature: 2, weights: { hard: 0.5 } },
]);
const rows: [string, number][] = [];
rows.push([
  'plain training (cross-entropy)',
  await timeSteps((b) => student.loss(b.ids, b.targets)),
]);
const label: Record<string, string> = {
  features: 'features (hidden MSE + cosine)',
  attention: 'attention (attention KL + relation KL)',
  logits: 'logits (KL, T=2, + hard CE)',
};
for (let s = 0; s < stages.totalSteps; s++) {
  const stage: DistillationStage = stages.stageAt(s);
  rows.push([
    `distill: ${label[stage.kind]}`,
    await timeSteps(
      (b) => distillationLoss(student, teacher, b, stage, { pairs, projections }).loss,
    ),
  ]);
}
const teacherForward: number[] = [];
for (let i = 0; i < WARMUP + TIMED; i++) {
  const start = performance.now();
  await scope(async () => {
    const { logits } = teacher.forward(batch(i).ids);
    await logits.toArray();
  });
  if (i >= WARMUP) teacherForward.push(performance.now() - start);
}
teacherForward.sort((a, b) => a - b);

const base = rows[0]![1];
console.log(
  `\n@fathom/distill step time on ${backend} (median of ${TIMED}; batch ${ROWS}×${LENGTH}, vocab ${VOCAB})`,
);
console.log(
  `teacher ${TEACHER.numLayers}×${TEACHER.hiddenSize} (${teacher.model.numParameters()} params), student ${STUDENT.numLayers}×${STUDENT.hiddenSize} (${student.numParameters()} params)\n`,
);
console.log('| step | ms | vs plain |');
console.log('| --- | ---: | ---: |');
for (const [name, ms] of rows)
  console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)}× |`);
console.log(
  `| (teacher forward alone, no grad) | ${teacherForward[Math.floor(TIMED / 2)]!.toFixed(1)} | ${(teacherForward[Math.floor(TIMED / 2)]! / base).toFixed(2)}× |`,
);
optimizer.dispose();
projections.dispose();
student.dispose();
teacher.dispose();
device.close();
