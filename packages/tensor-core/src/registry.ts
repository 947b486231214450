/**
 * Kernels keyed by (op, backend), in the manner of TensorFlow.js's kernel
 * registry: tensor-core registers its own, and other packages (quant, moe)
 * register theirs without editing tensor-core.
 */
import type { Backend, BackendName, TensorView } from './backend.js';

/** Fills `outputs` (fresh, contiguous) from `inputs` (any layout). */
export type Kernel<B extends Backend = Backend, A = unknown> = (
  backend: B,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  attrs: A,
) => void;

const kernels = new Map<string, Kernel>();

const key = (op: string, backend: BackendName): string => `${op}\u0000${backend}`;

/** Registers (or replaces) the kernel of `op` on `backend`. */
export function registerKernel<B extends Backend, A>(
  op: string,
  backend: BackendName,
  kernel: Kernel<B, A>,
): void {
  kernels.set(key(op, backend), kernel as unknown as Kernel);
}

/** The kernel of `op` on `backend`, or an error naming both. */
export function getKernel(op: string, backend: BackendName): Kernel {
  const k = kernels.get(key(op, backend));
  if (!k) throw new Error(`${op}: no kernel is registered for backend '${backend}'`);
  return k;
}

/** True when `op` has a kernel on `backend`. */
export function hasKernel(op: string, backend: BackendName): boolean {
  return kernels.has(key(op, backend));
}

/** Ops with a kernel on `backend` (for coverage checks and docs). */
export function registeredOps(backend: BackendName): string[] {
  const out: string[] = [];
  for (const k of kernels.keys()) {
    const [op, b] = k.split('\u0000');
    if (b === backend) out.push(op!);
  }
  return out.sort();
}
