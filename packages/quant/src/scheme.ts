/**
 * Quantisation schemes: how a weight matrix [out, in] becomes integer codes
 * with f32 scales (and zero-points). Groups always run along the input dim, so
 * one output row's dot product reads its own scales.
 */

/** Group sizes of the int4 and mixed schemes. */
export type GroupSize = 32 | 64 | 128;

/** int8 symmetric: one scale per tensor or per output channel (row); codes q ∈ [-127, 127]. */
export interface Int8Scheme {
  kind: 'int8';
  granularity: 'tensor' | 'channel';
}

/** int4 asymmetric per group of `groupSize` input columns of each row; codes in [0, 15] packed eight per u32. */
export interface Int4Scheme {
  kind: 'int4';
  groupSize: GroupSize;
}

/**
 * Variance-based mixed precision: the input columns whose variance (over output rows) is
 * above the `percentile`-th percentile keep 8-bit symmetric per-channel codes; the rest
 * get 4-bit asymmetric per-group codes.
 */
export interface MixedScheme {
  kind: 'mixed';
  groupSize: GroupSize;
  /** Percentile in [0, 100) of column variance above which a column is 8-bit (default 70). */
  percentile?: number;
}

/** Any supported scheme. */
export type QuantScheme = Int8Scheme | Int4Scheme | MixedScheme;

/** A scheme with its defaults filled in. */
export type ResolvedScheme = Int8Scheme | Int4Scheme | Required<MixedScheme>;

const GROUPS = [32, 64, 128];

/** Validates a scheme (from code or a config file) and fills defaults; errors name `where`. */
export function resolveScheme(scheme: unknown, where = 'scheme'): ResolvedScheme {
  const got = JSON.stringify(scheme);
  if (typeof scheme !== 'object' || scheme === null)
    throw new TypeError(
      `${where} is ${got}; expected an object with kind 'int8', 'int4' or 'mixed'`,
    );
  const s = scheme as Record<string, unknown>;
  const checkGroup = (): GroupSize => {
    if (!GROUPS.includes(s.groupSize as number))
      throw new RangeError(
        `${where}.groupSize is ${JSON.stringify(s.groupSize)}; expected 32, 64 or 128`,
      );
    return s.groupSize as GroupSize;
  };
  switch (s.kind) {
    case 'int8':
      if (s.granularity !== 'tensor' && s.granularity !== 'channel')
        throw new RangeError(
          `${where}.granularity is ${JSON.stringify(s.granularity)}; expected 'tensor' or 'channel'`,
        );
      return { kind: 'int8', granularity: s.granularity };
    case 'int4':
      return { kind: 'int4', groupSize: checkGroup() };
    case 'mixed': {
      const groupSize = checkGroup();
      const percentile = s.percentile ?? 70;
      if (typeof percentile !== 'number' || !(percentile >= 0 && percentile < 100))
        throw new RangeError(
          `${where}.percentile is ${JSON.stringify(percentile)}; expected a number in [0, 100)`,
        );
      return { kind: 'mixed', groupSize, percentile };
    }
    default:
      throw new RangeError(
        `${where}.kind is ${JSON.stringify(s.kind)}; expected 'int8', 'int4' or 'mixed'`,
      );
  }
}

/** A short label such as `int4-g64` or `mixed-g128-p70`. */
export function schemeLabel(s: ResolvedScheme): string {
  if (s.kind === 'int8') return `int8-${s.granularity}`;
  if (s.kind === 'int4') return `int4-g${s.groupSize}`;
  return `mixed-g${s.groupSize}-p${s.percentile}`;
}
