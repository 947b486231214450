/** Reverse-mode differentiation over the recorded tape. */
import type { Tensor } from '../tensor.js';
import { setGradEnabled } from './grad-mode.js';
import type { GradNode } from './node.js';
import { add, cast, onesLike, sumToShape } from '../ops/index.js';
import { sameShape, fmt } from '../shape.js';

/** Options for {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so backward can run through it again. */
  retainGraph?: boolean;
}

function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  const stack: [GradNode, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [node, expanded] = stack.pop()!;
    if (expanded) {
      order.push(node);
      continue;
    }
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push([node, true]);
    for (const p of node.parents()) if (!seen.has(p)) stack.push([p, false]);
  }
  return order.reverse(); // root first
}

function accumulate(into: Tensor | null, g: Tensor): Tensor {
  if (!into) return g;
  const sum = add(into, g);
  into.dispose();
  g.dispose();
  return sum;
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  let grad = g;
  if (!sameShape(grad.shape, leaf.shape)) {
    throw new Error(
      `internal: gradient of shape ${fmt(grad.shape)} for a leaf of shape ${fmt(leaf.shape)}`,
    );
  }
  if (grad.dtype !== leaf.dtype) {
    const c = cast(grad, leaf.dtype);
    grad.dispose();
    grad = c;
  }
  if (leaf.grad) {
    const sum = add(leaf.grad, grad);
    grad.dispose();
    grad = sum;
  }
  leaf.setGrad(grad); // disposes the previous .grad
}

/**
 * Computes gradients of `root` with respect to every leaf that requires grad and
 * accumulates them into the leaves' `.grad`. `grad` defaults to ones for a scalar root.
 */
export function backward(root: Tensor, grad?: Tensor, options: BackwardOptions = {}): void {
  root.assertLive('backward', 'tensor');
  if (!root.requiresGrad) {
    throw new Error(
      'backward: the tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)',
    );
  }
  if (grad) {
    grad.assertLive('backward', 'grad');
    if (!sameShape(grad.shape, root.shape)) {
      throw new RangeError(
        `backward: grad has shape ${fmt(grad.shape)}; expected the tensor's shape ${fmt(root.shape)}`,
      );
    }
  } else if (root.size !== 1) {
    throw new RangeError(
      `backward: grad must be given for a non-scalar tensor of shape ${fmt(root.shape)}`,
    );
  }
  const before = setGradEnabled(false);
  try {
    const seed = grad ? grad.share() : onesLike(root);
    const node = root.gradNode();
    if (!node) {
      accumulateLeaf(root, seed);
      return;
    }
    const pending = new Map<GradNode, (Tensor | null)[]>();
    pending.set(
      node,
      node.outputs.map((_, i) => (i === root.gradOutputIndex() ? seed : null)),
    );
    for (const n of topoOrder(node)) {
      const outGrads = pending.get(n);
      pending.delete(n);
      if (!outGrads || outGrads.every((g) => g === null)) continue;
      const inGrads = n.backwardFn(outGrads, n.saved());
      for (const g of outGrads) g?.dispose();
      n.edges.forEach((edge, i) => {
        const g = inGrads[i];
        if (!g) return;
        if (!edge) {
          g.dispose();
          return;
        }
        if (edge.leaf) {
          accumulateLeaf(edge.leaf, g);
          return;
        }
        const target = edge.node!;
        const slots = pending.get(target) ?? target.outputs.map(() => null);
        const want = target.outputs[edge.outputIndex]!;
        // A rule may return a broadcast-shaped gradient; fold it to the input's shape.
        const fitted = sameShape(g.shape, want.shape) ? g : sumToShape(g, want.shape);
        if (fitted !== g) g.dispose();
        slots[edge.outputIndex] = accumulate(slots[edge.outputIndex] ?? null, fitted);
        pending.set(target, slots);
      });
      if (!options.retainGraph) n.release();
    }
  } finally {
    setGradEnabled(before);
  }
}
