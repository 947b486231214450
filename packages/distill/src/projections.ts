/**
 * The learned projections hidden-state losses need when the student is narrower (or wider)
 * than the teacher: one `Linear(studentWidth, teacherWidth)` per mapped student layer,
 * trained with the student and discarded afterwards.
 */
import { type CausalLm, Linear, Module } from '@fathom/nn-layers';
import { type Device, Generator } from '@fathom/tensor-core';
import type { LayerPair } from './layer-map.js';

/** See the module comment. Parameters are named `layer_{l}.weight`. */
export class DistillationProjections extends Module {
  private readonly byLayer = new Map<number, Linear>();

  /** Builds projections for `pairs` when the widths differ (none when they match). */
  constructor(
    studentWidth: number,
    teacherWidth: number,
    pairs: readonly LayerPair[],
    options: { device?: Device; seed?: number } = {},
  ) {
    super();
    if (studentWidth === teacherWidth) return;
    const generator = new Generator(options.seed ?? 0);
    for (const { student } of pairs) {
      if (this.byLayer.has(student)) continue;
      const linear = new Linear(studentWidth, teacherWidth, {
        ...(options.device ? { device: options.device } : {}),
        generator,
        // Keeps ‖W·s‖ ≈ ‖s‖ at the start, so the first MSE is of the hidden states' scale.
        initStd: 1 / Math.sqrt(studentWidth),
      });
      this.byLayer.set(student, this.registerModule(`layer_${student}`, linear));
    }
  }

  /** For a student and a teacher model. */
  static between(
    student: CausalLm,
    teacher: CausalLm,
    pairs: readonly LayerPair[],
    options: { device?: Device; seed?: number } = {},
  ): DistillationProjections {
    return new DistillationProjections(
      student.config.hiddenSize,
      teacher.config.hiddenSize,
      pairs,
      options,
    );
  }

  /** The projection of student layer `layer`, or null when widths match. */
  forLayer(layer: number): Linear | null {
    return this.byLayer.get(layer) ?? null;
  }
}
