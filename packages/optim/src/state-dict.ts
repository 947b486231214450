/**
 * The state dict format shared by every optimizer: tensors keyed by parameter
 * and state name (what a safetensors writer stores) plus JSON metadata, and
 * turning loaded values back into device tensors.
 */
import {
  type Device,
  type HostArray,
  type Tensor,
  execute,
  fromArray,
  keep,
} from '@fathom/tensor-core';

/** A JSON value (what a state dict's `meta` is made of). */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Format tag of {@link OptimizerMeta}. */
export const STATE_FORMAT = 'fathom.optim/1';

/** The JSON half of a state dict. */
export interface OptimizerMeta {
  /** Always {@link STATE_FORMAT}. */
  format: typeof STATE_FORMAT;
  /** `AdamW` or `Sgd`: loading into another kind is refused. */
  kind: string;
  /** Completed `step()` calls. */
  steps: number;
  /** Each group in order: its name, parameter names, initial lr and hyper-parameters. */
  groups: {
    name: string;
    params: string[];
    initialLr: number;
    hyper: { [key: string]: JsonValue };
  }[];
  /** Per parameter with state: its own step count (parameters without a gradient skip steps). */
  state: { [param: string]: { step: number } };
}

/**
 * A state dict: tensors (fresh copies the caller owns and should dispose, keyed
 * `state.<param name>.<state name>`, ready for a safetensors writer) and JSON metadata.
 */
export interface OptimizerStateDict {
  /** Copies of the state tensors, keyed by {@link stateKey}. */
  tensors: Record<string, Tensor>;
  /** Everything else, as JSON. */
  meta: OptimizerMeta;
}

/** What `loadStateDict` accepts: tensors on any device, or host arrays (e.g. from safetensors). */
export interface OptimizerStateInput {
  /** State tensors keyed by {@link stateKey}: tensors on any device, or host arrays in row-major order. */
  tensors: Readonly<Record<string, Tensor | HostArray | readonly number[]>>;
  /** The metadata {@link Optimizer.stateDict} produced (after a JSON round trip is fine). */
  meta: OptimizerMeta;
}

/** Key of one state tensor in a state dict. */
export function stateKey(param: string, state: string): string {
  return `state.${param}.${state}`;
}

/** A fresh copy of a tensor on its device (bit-exact). */
export function copyTensor(t: Tensor): Tensor {
  return execute('copy', t.device, [t], [{ shape: t.shape, dtype: t.dtype }], {})[0]!;
}

/** `[2,3]`, for messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * A loaded state value as an f32 tensor on the parameter's device, exempt from
 * enclosing scopes: copied on the device, moved through the host from another
 * device, or uploaded from a host array. Shapes and dtypes are checked.
 */
export async function importStateTensor(
  op: string,
  key: string,
  value: Tensor | HostArray | readonly number[],
  param: Tensor,
): Promise<Tensor> {
  const device: Device = param.device;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const values = value as ArrayLike<number>;
    if (values.length !== param.size)
      throw new RangeError(
        `${op}: tensors['${key}'] has ${values.length} values; parameter of shape ${shapeText(param.shape)} needs ${param.size}`,
      );
    return keep(fromArray(values, param.shape, { device, dtype: 'f32' }));
  }
  const t = value as Tensor;
  const sameShape =
    t.shape.length === param.shape.length && t.shape.every((d, i) => d === param.shape[i]);
  if (!sameShape)
    throw new RangeError(
      `${op}: tensors['${key}'] has shape ${shapeText(t.shape)}; expected the parameter's ${shapeText(param.shape)}`,
    );
  if (t.dtype !== 'f32')
    throw new TypeError(`${op}: tensors['${key}'] has dtype ${t.dtype}; expected f32`);
  if (t.device === device) return keep(copyTensor(t));
  return keep(fromArray(await t.toArray(), param.shape, { device, dtype: 'f32' }));
}
