/** Applying a schedule to an optimizer's groups, resumably. */
import type { HyperParams, Optimizer } from './optimizer.js';
import type { LrSchedule, ScheduleDescription } from './schedules.js';
import { checkNumber } from './validate.js';

/** The scheduler's state: its step, the groups' base lrs, and which schedule produced them. */
export interface LrSchedulerState {
  /** Scheduler steps taken. */
  step: number;
  /** Base lr of each group, in order. */
  baseLrs: number[];
  /** The schedule that was applied. */
  schedule: ScheduleDescription;
}

/**
 * Sets each group's `lr` from a schedule: `lr = schedule.lrAt(step, baseLr)`,
 * with `baseLr` the group's `initialLr`. The constructor applies step 0; call
 * `step()` after each `optimizer.step()`, as with PyTorch's schedulers.
 */
export class LrScheduler {
  private current = 0;
  private readonly baseLrs: number[];

  /** Applies the schedule's step-0 lr to every group. */
  constructor(
    readonly optimizer: Optimizer<HyperParams>,
    readonly schedule: LrSchedule,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
    this.apply();
  }

  /** The scheduler's step (0 until the first `step()`). */
  get lastStep(): number {
    return this.current;
  }

  /** Advances one step and sets every group's lr. */
  step(): void {
    this.current += 1;
    this.apply();
  }

  /** The lr each group has now. */
  currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** A JSON-serialisable snapshot. */
  stateDict(): LrSchedulerState {
    return {
      step: this.current,
      baseLrs: [...this.baseLrs],
      schedule: this.schedule.describe(),
    };
  }

  /** Restores a snapshot, refusing one taken under another schedule or group layout. */
  loadStateDict(state: LrSchedulerState): void {
    const op = 'LrScheduler.loadStateDict';
    const mine = JSON.stringify(this.schedule.describe());
    if (JSON.stringify(state.schedule) !== mine)
      throw new Error(
        `${op}: the state is of schedule ${JSON.stringify(state.schedule)}; expected ${mine}`,
      );
    if (!Array.isArray(state.baseLrs) || state.baseLrs.length !== this.baseLrs.length)
      throw new Error(
        `${op}: baseLrs has ${String(state.baseLrs?.length)} entries; expected ${this.baseLrs.length} (one per group)`,
      );
    checkNumber(op, 'step', state.step, { min: 0, integer: true });
    state.baseLrs.forEach((lr, i) => checkNumber(op, `baseLrs[${i}]`, lr, { min: 0 }));
    this.current = state.step;
    this.baseLrs.splice(0, this.baseLrs.length, ...state.baseLrs);
    this.apply();
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.schedule.lrAt(this.current, this.baseLrs[i]!);
    });
  }
}
