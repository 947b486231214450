/**
 * Hidden-state distillation (TinyBERT-style): mean squared error between the student's
 * hidden states, mapped to the teacher's width by a learned projection when widths
 * differ, and the teacher's.
 */
import { type Tensor, detach, mean, scope, square, sub } from '@fathom/tensor-core';
import type { Linear } from '@fathom/nn-layers';
import { floatRank, fmt } from './checks.js';

/** Applies `projection` to `student` (or checks widths match when there is none). */
export function projectTo(
  fn: string,
  student: Tensor,
  teacher: Tensor,
  projection: Linear | null | undefined,
): Tensor {
  const sw = student.shape[student.rank - 1]!;
  const tw = teacher.shape[teacher.rank - 1]!;
  if (projection) {
    if (projection.inFeatures !== sw || projection.outFeatures !== tw) {
      throw new RangeError(
        `${fn}: projection maps ${projection.inFeatures} → ${projection.outFeatures}; expected ${sw} → ${tw} (student width → teacher width)`,
      );
    }
    return projection.forward(student);
  }
  if (sw !== tw) {
    throw new RangeError(
      `${fn}: student width ${sw} differs from teacher width ${tw} and no projection was given; pass a Linear(${sw}, ${tw})`,
    );
  }
  return student;
}

/** Checks that the leading (batch, time) dims agree. */
export function sameLeading(fn: string, student: Tensor, teacher: Tensor): void {
  const a = student.shape.slice(0, -1);
  const b = teacher.shape.slice(0, -1);
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new RangeError(
      `${fn}: teacher has shape ${fmt(teacher.shape)}; expected leading dims ${fmt(a)} (student's ${fmt(student.shape)})`,
    );
  }
}

/**
 * `mean((W·s − t)²)` over every element, with `W` the optional projection
 * (`Linear(studentWidth, teacherWidth)`, trained with the student). The teacher is detached.
 */
export function hiddenMse(student: Tensor, teacher: Tensor, projection?: Linear | null): Tensor {
  floatRank('hiddenMse', 'student', student, 1);
  floatRank('hiddenMse', 'teacher', teacher, 1);
  sameLeading('hiddenMse', student, teacher);
  return scope(() => {
    const s = projectTo('hiddenMse', student, teacher, projection);
    return mean(square(sub(s, detach(teacher))));
  });
}
