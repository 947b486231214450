/** Argument checks whose errors name the argument, what it got and what it wanted. */

/** Bounds for {@link checkNumber}. */
export interface NumberBounds {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  integer?: boolean;
  /** Allow +Infinity. */
  infinite?: boolean;
}

function wanted(b: NumberBounds): string {
  const parts = [b.integer ? 'an integer' : b.infinite ? 'a number' : 'a finite number'];
  if (b.min !== undefined) parts.push(`>= ${b.min}`);
  if (b.above !== undefined) parts.push(`> ${b.above}`);
  if (b.below !== undefined)
    parts.push(`${b.min !== undefined || b.above !== undefined ? 'and ' : ''}< ${b.below}`);
  return parts.join(' ');
}

/** Throws a RangeError unless `value` is a number within `bounds`. */
export function checkNumber(
  op: string,
  name: string,
  value: unknown,
  bounds: NumberBounds = {},
): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (bounds.infinite === true && value === Infinity)) &&
    (bounds.integer !== true || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.above === undefined || value > bounds.above) &&
    (bounds.below === undefined || value < bounds.below);
  if (!ok) throw new RangeError(`${op}: ${name} is ${String(value)}; expected ${wanted(bounds)}`);
  return value as number;
}

/** Throws a TypeError unless `value` is a boolean. */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`${op}: ${name} is ${String(value)}; expected true or false`);
  return value;
}
