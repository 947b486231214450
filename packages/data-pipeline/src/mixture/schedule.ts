/**
 * How a value changes with the training step.
 *
 * - a number: constant;
 * - `linear`: `from` until `start` (default 0), then a straight line to `to` at
 *   `start + steps`, then `to`;
 * - `piecewise`: straight lines between `[step, value]` points, constant before the first
 *   and after the last.
 */
export type StepSchedule =
  | number
  | { kind: 'linear'; from: number; to: number; steps: number; start?: number }
  | { kind: 'piecewise'; points: readonly (readonly [step: number, value: number])[] };

/**
 * Checks a schedule.
 *
 * @param schedule - the schedule.
 * @param where - caller and argument, for error messages.
 */
export function checkSchedule(schedule: StepSchedule, where: string): void {
  const finite = (v: unknown, what: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TypeError(`${where}: ${what} is ${String(v)}; expected a finite number`);
    }
  };
  if (typeof schedule === 'number') return finite(schedule, 'the value');
  if (schedule?.kind === 'linear') {
    finite(schedule.from, 'from');
    finite(schedule.to, 'to');
    if (!Number.isInteger(schedule.steps) || schedule.steps < 1) {
      throw new RangeError(`${where}: steps is ${schedule.steps}; expected an integer >= 1`);
    }
    const start = schedule.start ?? 0;
    if (!Number.isInteger(start) || start < 0) {
      throw new RangeError(`${where}: start is ${start}; expected an integer >= 0`);
    }
    return;
  }
  if (schedule?.kind === 'piecewise') {
    const { points } = schedule;
    if (!Array.isArray(points) || points.length === 0) {
      throw new RangeError(`${where}: points is empty; expected at least one [step, value] point`);
    }
    points.forEach(([step, value], i) => {
      finite(step, `points[${i}][0]`);
      finite(value, `points[${i}][1]`);
      if (i > 0 && !(step > points[i - 1]![0])) {
        throw new RangeError(
          `${where}: points[${i}] has step ${step}; expected steps in increasing order`,
        );
      }
    });
    return;
  }
  throw new TypeError(
    `${where}: schedule is ${JSON.stringify(schedule)}; expected a number, { kind: 'linear', ... } or { kind: 'piecewise', ... }`,
  );
}

/**
 * The value of a schedule at a step.
 *
 * @param schedule - the schedule.
 * @param step - the training step (>= 0).
 * @returns the value.
 */
export function scheduleValue(schedule: StepSchedule, step: number): number {
  if (typeof schedule === 'number') return schedule;
  if (schedule.kind === 'linear') {
    const start = schedule.start ?? 0;
    const t = Math.min(1, Math.max(0, (step - start) / schedule.steps));
    return schedule.from + (schedule.to - schedule.from) * t;
  }
  const { points } = schedule;
  if (step <= points[0]![0]) return points[0]![1];
  for (let i = 1; i < points.length; i++) {
    const [s1, v1] = points[i]!;
    if (step <= s1) {
      const [s0, v0] = points[i - 1]!;
      return v0 + ((v1 - v0) * (step - s0)) / (s1 - s0);
    }
  }
  return points.at(-1)![1];
}

/**
 * Steps where a schedule changes slope; between them (and beyond the last) it is linear, so
 * bounds checked at these steps hold everywhere.
 *
 * @param schedule - the schedule.
 * @returns the steps, including 0.
 */
export function scheduleBreakpoints(schedule: StepSchedule): number[] {
  if (typeof schedule === 'number') return [0];
  if (schedule.kind === 'linear') {
    const start = schedule.start ?? 0;
    return [0, start, start + schedule.steps];
  }
  return [0, ...schedule.points.map(([s]) => Math.max(0, s))];
}
