/**
 * Running one op: validate the inputs' devices and liveness, allocate the
 * outputs, call the registered kernel, and record the autograd tape.
 */
import type { TensorView } from './backend.js';
import type { Device } from './device.js';
import { type DType, isHalf } from './dtype.js';
import { DeviceMismatchError } from './errors.js';
import { isGradEnabled } from './autograd/grad-mode.js';
import { GradNode, type BackwardFn, type GradEdge } from './autograd/node.js';
import { Storage } from './memory/storage.js';
import { trackNode } from './memory/scope.js';
import { getKernel } from './registry.js';
import { sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

/** Shape and dtype of one output. */
export interface OutputSpec {
  shape: readonly number[];
  dtype: DType;
}

/** The device all inputs share; errors name the first input on another device or disposed. */
export function commonDevice(
  op: string,
  inputs: readonly Tensor[],
  names?: readonly string[],
): Device {
  const first = inputs[0];
  if (!first) throw new Error(`internal: ${op} called with no inputs`);
  inputs.forEach((t, i) => {
    const name = names?.[i] ?? `input ${i}`;
    if (!(t instanceof Tensor))
      throw new TypeError(`${op}: ${name} must be a Tensor; got ${typeof t}`);
    t.assertLive(op, name);
    if (t.device !== first.device)
      throw new DeviceMismatchError(op, name, t.device.name, first.device.name);
  });
  if (first.device.isClosed) throw new Error(`${op}: device ${first.device.name} is closed`);
  return first.device;
}

/** The kernel's view of a tensor. */
export function viewOf(t: Tensor): TensorView {
  return {
    handle: t.storage.handle,
    dtype: t.dtype,
    shape: t.shape,
    strides: t.strides,
    offset: t.offset,
  };
}

/** Allocates a fresh contiguous tensor (contents undefined). */
export function emptyTensor(device: Device, shape: readonly number[], dtype: DType): Tensor {
  const storage = Storage.allocate(device.backend, dtype, sizeOf(shape), device.counters);
  return new Tensor(device, storage, [...shape], dtype);
}

/**
 * Runs `op`'s kernel on `inputs` and returns fresh outputs. Where the backend cannot
 * write 16-bit floats directly, the kernel writes f32 and a `cast` rounds it (ties to even).
 */
export function execute<A>(
  op: string,
  device: Device,
  inputs: readonly Tensor[],
  outputs: readonly OutputSpec[],
  attrs: A,
): Tensor[] {
  const kernel = getKernel(op, device.backend.name);
  // cast writes 16-bit floats itself on every backend; it is what the others widen through.
  const widen = !device.backend.writesHalf && op !== 'cast';
  const outs = outputs.map((o) =>
    emptyTensor(device, o.shape, widen && isHalf(o.dtype) ? 'f32' : o.dtype),
  );
  kernel(device.backend, inputs.map(viewOf), outs.map(viewOf), attrs);
  return outs.map((t, i) => {
    const want = outputs[i]!.dtype;
    if (t.dtype === want) return t;
    const [cast] = execute('cast', device, [t], [{ shape: t.shape, dtype: want }], { dtype: want });
    t.dispose();
    return cast!;
  });
}

/** True when autograd must record an op over these inputs. */
export function needsGrad(...inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records one op on the tape. `saved` tensors are kept alive (shared, not copied)
 * until backward has used them or the graph is released.
 */
export function record(
  op: string,
  inputs: readonly (Tensor | null)[],
  outputs: readonly Tensor[],
  saved: readonly Tensor[],
  backward: BackwardFn,
): void {
  if (!needsGrad(...inputs)) return;
  const edges: (GradEdge | null)[] = inputs.map((t) => {
    if (!t?.requiresGrad) return null;
    const node = t.gradNode();
    return node
      ? { node, outputIndex: t.gradOutputIndex(), leaf: null }
      : { node: null, outputIndex: 0, leaf: t };
  });
  const node = new GradNode(
    op,
    edges,
    saved.map((t) => t.share()),
    backward,
    outputs.map((o) => ({ shape: o.shape, dtype: o.dtype })),
  );
  outputs.forEach((o, i) => o.setGradNode(node, i));
  trackNode(node);
}

/**
 * Runs a kernel that updates `targets` in place (optimizer steps, accumulation).
 * Targets must be contiguous, live, on the op's device and outside autograd
 * (leaves, or no grad); kernels must bind them read-write only, since WebGPU
 * refuses one buffer bound both read-only and writable in a dispatch.
 */
export function executeInPlace<A>(
  op: string,
  inputs: readonly Tensor[],
  targets: readonly Tensor[],
  attrs: A,
): void {
  const names = [...inputs.map((_, i) => `input ${i}`), ...targets.map((_, i) => `target ${i}`)];
  const device = commonDevice(
    op,
    [...targets, ...inputs],
    [...names.slice(inputs.length), ...names.slice(0, inputs.length)],
  );
  targets.forEach((t, i) => {
    if (!t.isContiguous)
      throw new Error(
        `${op}: target ${i} must be contiguous to update in place (shape [${t.shape.join(',')}])`,
      );
    if (!t.isLeaf)
      throw new Error(
        `${op}: target ${i} was produced by ${t.gradNode()!.op}; only leaves can be updated in place`,
      );
    for (const x of inputs) {
      if (x.storage === t.storage)
        throw new Error(
          `${op}: target ${i} shares storage with an input; in-place kernels need distinct buffers`,
        );
    }
  });
  getKernel(op, device.backend.name)(
    device.backend,
    inputs.map(viewOf),
    targets.map(viewOf),
    attrs,
  );
}
