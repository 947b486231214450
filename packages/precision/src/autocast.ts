/**
 * Applies a {@link PrecisionPolicy} to a model: parameters are converted to
 * their storage dtype, and each module's `forward` is wrapped (on the
 * instance, like a PyTorch forward pre-hook; `remove()` restores it) so that
 * inputs arrive in the module's compute dtype. Linear and Embedding layers
 * also cast their weights to the compute dtype when the storage dtype differs
 * (f32 parameters with bf16 compute, PyTorch's autocast), through `cast`,
 * whose backward returns gradients in the parameter's own dtype. Norm layers
 * run in f32 when the policy lists `norm` among its f32 ops; the root
 * module's float output (the logits) is cast to f32 when it lists `loss`.
 */
import { Embedding, LayerNorm, Linear, type Module, RmsNorm } from '@fathom/nn-layers';
import {
  type DType,
  Tensor,
  add,
  cast,
  embedding,
  isFloat,
  layerNorm,
  matmul,
  rmsNorm,
} from '@fathom/tensor-core';
import { convertParameters, ownParameters } from './convert-params.js';
import { type PrecisionPolicy, type ResolvedPolicy, resolvePolicy } from './policy.js';

type Forward = (...args: unknown[]) => unknown;

/** A policy applied to a model. */
export interface AppliedPolicy {
  readonly resolved: ResolvedPolicy;
  /** The model the policy was applied to. */
  readonly model: Module;
  /** Restores the modules' own `forward`s (parameters keep their converted dtypes). Idempotent. */
  remove(): void;
}

const applied = new WeakSet<Module>();

/** `x` in `dtype`, and whether the result is a new tensor the caller must dispose. */
function castTo(x: Tensor, dtype: DType): [Tensor, boolean] {
  // Never cast to the same dtype: tensor-core's cast returns an untracked share then.
  return x.dtype === dtype ? [x, false] : [cast(x, dtype), true];
}

function withCasts<T>(pairs: [Tensor, boolean][], run: (...xs: Tensor[]) => T): T {
  try {
    return run(...pairs.map(([t]) => t));
  } finally {
    for (const [t, owned] of pairs) if (owned) t.dispose();
  }
}

function linearForward(layer: Linear, dtype: DType): Forward {
  return (x: unknown) => {
    if (!(x instanceof Tensor))
      throw new TypeError(`Linear: input must be a Tensor; got ${typeof x}`);
    if (x.shape[x.rank - 1] !== layer.inFeatures)
      throw new RangeError(
        `Linear: input has shape [${x.shape.join(',')}]; expected last dim ${layer.inFeatures}`,
      );
    const bias = layer.bias;
    return withCasts(
      [castTo(x, dtype), castTo(layer.weight, dtype), ...(bias ? [castTo(bias, dtype)] : [])],
      (xc, w, b) => {
        const y = matmul(xc!, w!, { transB: true });
        if (!b) return y;
        const out = add(y, b);
        y.dispose();
        return out;
      },
    );
  };
}

function embeddingForward(layer: Embedding, dtype: DType): Forward {
  return (ids: unknown) => {
    if (!(ids instanceof Tensor) || ids.dtype !== 'i32')
      throw new TypeError(
        `Embedding: ids must be an i32 Tensor; got ${ids instanceof Tensor ? ids.dtype : typeof ids}`,
      );
    return withCasts([castTo(layer.weight, dtype)], (w) => embedding(w!, ids));
  };
}

function normForward(layer: RmsNorm | LayerNorm, dtype: DType): Forward {
  return (x: unknown) => {
    if (!(x instanceof Tensor))
      throw new TypeError(`norm: input must be a Tensor; got ${typeof x}`);
    const params = new Map(ownParameters(layer));
    const w = params.get('weight') ?? null;
    const b = params.get('bias') ?? null;
    const pairs: [Tensor, boolean][] = [castTo(x, dtype)];
    if (w) pairs.push(castTo(w, dtype));
    if (b) pairs.push(castTo(b, dtype));
    return withCasts(pairs, (xc, wc, bc) =>
      layer instanceof RmsNorm
        ? rmsNorm(xc!, wc ?? null, { eps: layer.eps })
        : layerNorm(xc!, wc ?? null, bc ?? null, { eps: layer.eps }),
    );
  };
}

function genericForward(original: Forward, dtype: DType, outputF32: boolean): Forward {
  return (...args: unknown[]) => {
    const [first, ...rest] = args;
    const pair: [Tensor, boolean] | null =
      first instanceof Tensor && isFloat(first.dtype) ? castTo(first, dtype) : null;
    let out: unknown;
    try {
      out = original(pair ? pair[0] : first, ...rest);
    } finally {
      if (pair?.[1]) pair[0].dispose();
    }
    if (outputF32 && out instanceof Tensor && isFloat(out.dtype) && out.dtype !== 'f32') {
      const up = cast(out, 'f32');
      out.dispose();
      return up;
    }
    return out;
  };
}

/**
 * Applies `policy` to `model` (see the module comment). Call before creating
 * optimizers or master weights: converted parameters are new tensors.
 */
export function applyPolicy(model: Module, policy: PrecisionPolicy): AppliedPolicy {
  if (applied.has(model))
    throw new Error('applyPolicy: a policy is already applied to this model; remove() it first');
  const resolved = resolvePolicy(policy, model);
  const normF32 = resolved.spec.f32Ops.includes('norm');
  const lossF32 = resolved.spec.f32Ops.includes('loss');
  // Check what cannot be autocast before converting anything.
  for (const [module, a] of resolved.modules) {
    if (module instanceof Linear || module instanceof Embedding) continue;
    if (module instanceof RmsNorm || module instanceof LayerNorm) continue;
    for (const [name, p] of ownParameters(module)) {
      if (isFloat(p.dtype) && a.params !== a.compute)
        throw new Error(
          `applyPolicy: module '${a.path}' (${module.constructor.name}) holds parameter '${name}' and runs its own forward, so its weights cannot be cast on the fly; give it params = compute (${a.compute}) in the policy`,
        );
    }
  }
  convertParameters(resolved);
  const patched: [Module, PropertyDescriptor | undefined][] = [];
  for (const [module, a] of resolved.modules) {
    const m = module as unknown as { forward?: Forward };
    const original = m.forward;
    if (typeof original !== 'function') continue;
    const bound = original.bind(module) as Forward;
    let wrapped: Forward;
    if (module instanceof Linear) wrapped = linearForward(module, a.compute);
    else if (module instanceof Embedding) wrapped = embeddingForward(module, a.compute);
    else if (module instanceof RmsNorm || module instanceof LayerNorm)
      wrapped = normForward(module, normF32 ? 'f32' : a.compute);
    else wrapped = genericForward(bound, a.compute, lossF32 && module === model);
    const isLeafKind =
      module instanceof Linear ||
      module instanceof Embedding ||
      module instanceof RmsNorm ||
      module instanceof LayerNorm;
    if (module === model && lossF32 && isLeafKind)
      wrapped = genericForward(wrapped, a.compute, true);
    patched.push([module, Object.getOwnPropertyDescriptor(module, 'forward')]);
    Object.defineProperty(module, 'forward', {
      value: wrapped,
      configurable: true,
      writable: true,
    });
  }
  applied.add(model);
  let removed = false;
  return {
    resolved,
    model,
    remove() {
      if (removed) return;
      removed = true;
      for (const [module, own] of patched) {
        if (own) Object.defineProperty(module, 'forward', own);
        else delete (module as unknown as { forward?: Forward }).forward;
      }
      applied.delete(model);
    },
  };
}
