/** Expanding a sweep grid into one config per combination. */
import { ConfigError } from '../config/errors.js';
import { applyOverrides, validateConfig } from '../config/load.js';
import type { TrainConfig } from '../config/schema.js';

/** A grid value. */
export type GridValue = number | string | boolean;

/** One combination: each grid field with its value, in the grid's field order. */
export type Combination = [path: string, value: GridValue][];

/** Every combination of the grid, the first field varying slowest. */
export function combinations(grid: Readonly<Record<string, readonly GridValue[]>>): Combination[] {
  let out: Combination[] = [[]];
  for (const [path, values] of Object.entries(grid))
    out = out.flatMap((c) => values.map((v): Combination => [...c, [path, v]]));
  return out;
}

/** A short label: `optimizer.lr=0.003, model.hiddenSize=64`. */
export function labelOf(c: Combination): string {
  return c.map(([p, v]) => `${p}=${String(v)}`).join(', ');
}

/**
 * The validated config of every combination (without its `sweep` section). All are checked
 * before the sweep starts, so a bad value fails at once with the combination and the path.
 */
export function expandSweep(
  config: TrainConfig,
  source: string,
): { combination: Combination; config: TrainConfig }[] {
  if (!config.sweep)
    throw new ConfigError(source, [
      { path: 'sweep', message: 'is missing; expected sweep.grid listing the fields to vary' },
    ]);
  const { sweep, ...base } = config;
  return combinations(sweep.grid).map((combination) => {
    const raw = applyOverrides(
      base,
      combination.map(([path, value]) => ({ path, value })),
    );
    return {
      combination,
      config: validateConfig(raw, `${source} (sweep: ${labelOf(combination)})`),
    };
  });
}
