/** Seeded parameter initialisation (LLaMA / GPT-2 schemes). */
import type { Generator } from '@fathom/tensor-core';
import {
  type DType,
  type Device,
  type Tensor,
  keep,
  mul,
  noGrad,
  randn,
  full,
} from '@fathom/tensor-core';

/** Where parameters are created, in what dtype, and from which random stream. */
export interface InitOptions {
  device?: Device;
  dtype?: DType;
  /** The stream initial weights are drawn from; the same seed gives the same model on every backend. */
  generator?: Generator;
}

/** A tensor of N(0, std²) values. */
export function normalInit(
  shape: readonly number[],
  std: number,
  options: InitOptions = {},
): Tensor {
  return noGrad(() => {
    const z = randn(shape, options);
    const out = mul(z, std);
    z.dispose();
    return keep(out);
  });
}

/** A tensor of a constant (norm weights start at 1, biases at 0). */
export function constantInit(
  shape: readonly number[],
  value: number,
  options: InitOptions = {},
): Tensor {
  return keep(
    full(shape, value, {
      ...(options.device ? { device: options.device } : {}),
      dtype: options.dtype ?? 'f32',
    }),
  );
}
