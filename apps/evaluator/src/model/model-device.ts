/** Small helpers around a loaded CausalLm: its device, and logits read back to the host. */
import type { CausalLm, KvCache } from '@fathom/nn-layers';
import {
  type Device,
  type Tensor,
  crossEntropy,
  fromArray,
  noGrad,
  reshape,
  scope,
  slice,
} from '@fathom/tensor-core';

/** The device holding the model's parameters. */
export function modelDevice(model: CausalLm): Device {
  const p = model.parameters()[0];
  if (!p) throw new Error('modelDevice: the model has no parameters');
  return p.device;
}

/** Token rows as an i32 [B, T] tensor. */
export function idsTensor(rows: readonly (readonly number[])[], device: Device): Tensor {
  const t = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    if (r.length !== t)
      throw new RangeError(`idsTensor: row ${i} has ${r.length} tokens; expected ${t} (row 0's)`);
  });
  return fromArray(rows.flat(), [rows.length, t], { device, dtype: 'i32' });
}

/**
 * Runs the model on `rows` (all the same length) and returns the logits of each row's last
 * position, [B × vocab] on the host. With a cache, the rows continue the cached sequences.
 */
export async function lastLogits(
  model: CausalLm,
  rows: readonly (readonly number[])[],
  cache?: KvCache,
): Promise<Float32Array> {
  const device = modelDevice(model);
  return scope(async () => {
    const ids = idsTensor(rows, device);
    const logits = noGrad(() => model.forward(ids, cache ? { cache } : {}));
    const t = rows[0]!.length;
    const last = slice(logits, [undefined, { start: t - 1, end: t }]);
    return Float32Array.from(await last.toArray());
  });
}

/**
 * Per-position negative log-likelihood (nats) of `targets` given `rows` (all the same length):
 * entry [b][t] is −log p(targets[b][t] | rows[b][0..t]); positions whose target is −100 get 0.
 */
export async function tokenNll(
  model: CausalLm,
  rows: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
): Promise<Float64Array[]> {
  const device = modelDevice(model);
  const values = await scope(async () => {
    const ids = idsTensor(rows, device);
    const tgt = idsTensor(targets, device);
    const nll = noGrad(() => {
      const logits = model.forward(ids);
      const flat = reshape(logits, [-1, logits.shape[2]!]);
      return crossEntropy(flat, reshape(tgt, [-1]), { reduction: 'none', ignoreIndex: -100 });
    });
    return nll.toArray();
  });
  const t = rows[0]?.length ?? 0;
  return rows.map((_, b) => {
    const out = Float64Array.from(values.slice(b * t, (b + 1) * t) as ArrayLike<number>);
    targets[b]!.forEach((y, i) => {
      if (y === -100) out[i] = 0;
    });
    return out;
  });
}
