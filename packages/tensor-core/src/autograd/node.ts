/** One recorded op on the autograd tape. */
import type { Releasable } from '../memory/scope.js';
import type { Tensor } from '../tensor.js';

/** Where an input's gradient goes: into an upstream node's output, or into a leaf's `.grad`. */
export interface GradEdge {
  node: GradNode | null;
  outputIndex: number;
  leaf: Tensor | null;
}

/** Computes input gradients from output gradients (null where an output got none). */
export type BackwardFn = (grads: (Tensor | null)[], saved: Tensor[]) => (Tensor | null)[];

/** A node of the tape: the op's backward rule, its inputs' edges and the tensors it saved. */
export class GradNode implements Releasable {
  private savedTensors: Tensor[] | null;

  constructor(
    readonly op: string,
    /** One edge per op input; null for inputs that need no gradient. */
    readonly edges: (GradEdge | null)[],
    saved: Tensor[],
    readonly backwardFn: BackwardFn,
    readonly outputs: { shape: readonly number[]; dtype: string }[],
  ) {
    this.savedTensors = saved;
  }

  get released(): boolean {
    return this.savedTensors === null;
  }

  /** The saved tensors; an error if the graph was already used and freed. */
  saved(): Tensor[] {
    if (!this.savedTensors) {
      throw new Error(
        `backward: the graph through ${this.op} was already freed (backward ran once, or its scope ended); ` +
          'call backward({ retainGraph: true }) to run it twice',
      );
    }
    return this.savedTensors;
  }

  *parents(): Iterable<GradNode> {
    for (const e of this.edges) if (e?.node) yield e.node;
  }

  release(): void {
    if (!this.savedTensors) return;
    for (const t of this.savedTensors) t.dispose();
    this.savedTensors = null;
  }
}
