/**
 * The distillation pieces of a run with a `distill` section: the frozen teacher (loaded from
 * its Hugging Face folder), the layer pairs, the learned projections and the stage schedule.
 */
import {
  DistillationProjections,
  DistillationSchedule,
  type FrozenTeacher,
  type LayerMapSpec,
  type LayerPair,
  loadTeacher,
  mapLayers,
} from '@fathom/distill';
import { Module } from '@fathom/nn-layers';
import type { CausalLm } from '@fathom/nn-layers';
import type { Device } from '@fathom/tensor-core';
import type { TrainConfig } from '../config/schema.js';

/** What a distillation run adds to the training parts. */
export interface DistillParts {
  teacher: FrozenTeacher;
  pairs: LayerPair[];
  /** Trained with the student (optimizer names `distill.layer_<l>.weight`); empty when widths match. */
  projections: DistillationProjections;
  schedule: DistillationSchedule;
  heads: 'group' | 'mean';
  relationHeads: number;
}

/**
 * Loads the teacher of a resolved config's distill section and builds the rest, or returns
 * undefined without one. Errors name the config path they come from.
 */
export async function loadDistillation(
  config: TrainConfig,
  device: Device,
): Promise<DistillParts | undefined> {
  const d = config.distill;
  if (!d) return undefined;
  let teacher: FrozenTeacher;
  try {
    teacher = await loadTeacher(d.teacher, device);
  } catch (error) {
    throw new Error(`distill.teacher: ${(error as Error).message}`, { cause: error });
  }
  try {
    const t = teacher.model.config;
    if (t.vocabSize !== config.model.vocabSize)
      throw new RangeError(
        `distill.teacher: ${d.teacher} has vocabSize ${t.vocabSize}; expected the student's ${config.model.vocabSize} (teacher and student must share the tokenizer)`,
      );
    const spec: LayerMapSpec =
      d.layerMap.kind === 'explicit'
        ? {
            kind: 'explicit',
            map: Object.fromEntries(
              Object.entries(d.layerMap.map ?? {}).map(([k, v]) => [Number(k), v]),
            ),
          }
        : { kind: d.layerMap.kind };
    let pairs: LayerPair[];
    try {
      pairs = mapLayers(config.model.numLayers, t.numLayers, spec);
    } catch (error) {
      throw new RangeError(`distill.layerMap: ${(error as Error).message}`, { cause: error });
    }
    const projections = new DistillationProjections(config.model.hiddenSize, t.hiddenSize, pairs, {
      device,
      seed: config.seed,
    });
    return {
      teacher,
      pairs,
      projections,
      schedule: new DistillationSchedule(d.stages),
      heads: d.heads,
      relationHeads: d.relationHeads,
    };
  } catch (error) {
    teacher.dispose();
    throw error;
  }
}

/**
 * The student and the projections as one module for precision and the optimizer: the
 * student's parameters keep their names, the projections' sit under `distill.`.
 */
export class DistillTrainable extends Module {
  constructor(student: CausalLm, projections: DistillationProjections) {
    super();
    for (const [name, child] of student.namedChildren()) this.registerModule(name, child);
    this.registerModule('distill', projections);
    const expected = student.namedParameters().length + projections.namedParameters().length;
    if (this.namedParameters().length !== expected)
      throw new Error(
        `DistillTrainable: the student has parameters outside its submodules; cannot combine it with the projections`,
      );
  }
}

/** Frees the teacher and the projections. */
export function disposeDistillation(parts: DistillParts): void {
  parts.teacher.dispose();
  parts.projections.dispose();
}
