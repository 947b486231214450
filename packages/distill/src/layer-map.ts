/**
 * Which teacher layer each student layer learns from. Layers are numbered 1…L (block
 * outputs, as `CausalLm`'s `hiddenState` hook numbers them; 0 is the embedding output and is
 * never mapped). A block's attention map is that of the same layer (hook index layer − 1).
 */

/** How student layers are matched with teacher layers. */
export type LayerMapSpec =
  /** Student layer l → teacher layer round(l · Lt / Ls) (TinyBERT's uniform strategy). */
  | { kind: 'uniform' }
  /** Student layer l → teacher layer Lt − Ls + l (the teacher's top Ls layers). */
  | { kind: 'last-k' }
  /** Explicit pairs: `map[studentLayer] = teacherLayer`; unlisted student layers are not distilled. */
  | { kind: 'explicit'; map: Record<number, number> | ReadonlyMap<number, number> };

/** One matched pair, both 1-based block outputs. */
export interface LayerPair {
  student: number;
  teacher: number;
}

function checkDepth(name: string, depth: number): void {
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`mapLayers: ${name} is ${depth}; expected a positive integer`);
  }
}

/**
 * Resolves `spec` against the two depths into pairs sorted by student layer, with
 * errors that name the offending layer and the valid range.
 */
export function mapLayers(
  studentLayers: number,
  teacherLayers: number,
  spec: LayerMapSpec,
): LayerPair[] {
  checkDepth('studentLayers', studentLayers);
  checkDepth('teacherLayers', teacherLayers);
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
  switch (spec.kind) {
    case 'uniform':
      return range(studentLayers).map((l) => ({
        student: l,
        teacher: Math.max(1, Math.round((l * teacherLayers) / studentLayers)),
      }));
    case 'last-k':
      if (studentLayers > teacherLayers) {
        throw new RangeError(
          `mapLayers: 'last-k' needs studentLayers (${studentLayers}) ≤ teacherLayers (${teacherLayers})`,
        );
      }
      return range(studentLayers).map((l) => ({
        student: l,
        teacher: teacherLayers - studentLayers + l,
      }));
    case 'explicit': {
      const entries =
        spec.map instanceof Map
          ? [...spec.map.entries()]
          : Object.entries(spec.map).map(([k, v]) => [Number(k), v] as [number, number]);
      if (entries.length === 0) {
        throw new RangeError(`mapLayers: explicit map is empty; expected at least one pair`);
      }
      const pairs = entries.map(([s, t]) => {
        if (!Number.isInteger(s) || s < 1 || s > studentLayers) {
          throw new RangeError(
            `mapLayers: explicit map has student layer ${s}; expected an integer in 1…${studentLayers}`,
          );
        }
        if (!Number.isInteger(t) || t < 1 || t > teacherLayers) {
          throw new RangeError(
            `mapLayers: explicit map sends student layer ${s} to teacher layer ${t}; expected an integer in 1…${teacherLayers}`,
          );
        }
        return { student: s, teacher: t };
      });
      return pairs.sort((a, b) => a.student - b.student);
    }
    default:
      throw new RangeError(
        `mapLayers: spec.kind is '${String((spec as { kind: unknown }).kind)}'; expected 'uniform', 'last-k' or 'explicit'`,
      );
  }
}
