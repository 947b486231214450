/**
 * `PrecisionPolicy`: which float type each part of a model computes in and
 * stores its parameters in, with overrides by module name or by decoder-layer
 * range, resolved against a model into one assignment per module.
 */
import { type Module, type NamePattern, patternToRegExp } from '@fathom/nn-layers';

/** The float dtypes a policy can assign. */
export type FloatDType = 'f32' | 'f16' | 'bf16';

/**
 * Parts of the model that run in f32 whatever the compute dtype: `norm` (norm
 * layers take f32 inputs and weights and return f32, as under PyTorch's
 * autocast) and `loss` (the model's output, the logits, is returned in f32 so
 * the loss and its scaling are f32). Softmax and every reduction accumulate in
 * f32 in tensor-core regardless of the policy.
 */
export type F32Op = 'norm' | 'loss';

/** One override; it applies to the modules it matches and everything below them. */
export interface PolicyOverride {
  /** Module names (glob as in nn-layers' `NamePattern`: `*` within a segment, `**` across; or a RegExp). */
  modules?: NamePattern;
  /** Decoder layers `[first, last]`, inclusive (the modules `<layerPrefix>.<i>`). */
  layers?: readonly [number, number];
  /** Compute dtype of the matched modules. */
  compute?: FloatDType;
  /** Parameter storage dtype of the matched modules. */
  params?: FloatDType;
}

/** A precision policy (plain data). */
export interface PrecisionPolicy {
  /** dtype activations and matmuls run in (default f32). */
  compute?: FloatDType;
  /** dtype parameters are stored in (default: `compute`). */
  params?: FloatDType;
  /** Default `['norm', 'loss']`. */
  f32Ops?: readonly F32Op[];
  /** Applied in order; a later match wins. */
  overrides?: readonly PolicyOverride[];
  /** Path of the numbered decoder layers for `layers` overrides (default `model.layers`, nn-layers' CausalLm). */
  layerPrefix?: string;
}

/** A policy with every default filled in. */
export interface ResolvedPolicySpec {
  compute: FloatDType;
  params: FloatDType;
  f32Ops: readonly F32Op[];
  overrides: readonly PolicyOverride[];
  layerPrefix: string;
}

/** What a module is assigned. */
export interface ModuleAssignment {
  /** The module's first dotted name ('' for the root). */
  path: string;
  compute: FloatDType;
  params: FloatDType;
}

/** A policy resolved against one model. */
export interface ResolvedPolicy {
  spec: ResolvedPolicySpec;
  /** One entry per distinct module instance (shared modules once). */
  modules: Map<Module, ModuleAssignment>;
}

const FLOATS: readonly string[] = ['f32', 'f16', 'bf16'];

function checkDType(what: string, v: unknown): FloatDType {
  if (typeof v !== 'string' || !FLOATS.includes(v))
    throw new TypeError(
      `PrecisionPolicy: ${what} is ${String(v)}; expected 'f32', 'f16' or 'bf16'`,
    );
  return v as FloatDType;
}

/** Checks a policy and fills defaults; errors name the field. */
export function resolvePolicySpec(policy: PrecisionPolicy = {}): ResolvedPolicySpec {
  if (typeof policy !== 'object' || policy === null)
    throw new TypeError(`PrecisionPolicy: got ${String(policy)}; expected an object`);
  const compute = checkDType('compute', policy.compute ?? 'f32');
  const params = checkDType('params', policy.params ?? compute);
  const f32Ops = policy.f32Ops ?? ['norm', 'loss'];
  if (!Array.isArray(f32Ops))
    throw new TypeError(
      `PrecisionPolicy: f32Ops is ${String(f32Ops)}; expected an array of 'norm' | 'loss'`,
    );
  f32Ops.forEach((op, i) => {
    if (op !== 'norm' && op !== 'loss')
      throw new TypeError(
        `PrecisionPolicy: f32Ops[${i}] is ${String(op)}; expected 'norm' or 'loss'`,
      );
  });
  const overrides = policy.overrides ?? [];
  if (!Array.isArray(overrides))
    throw new TypeError(`PrecisionPolicy: overrides is ${String(overrides)}; expected an array`);
  overrides.forEach((o: PolicyOverride, i) => {
    const at = `overrides[${i}]`;
    if (typeof o !== 'object' || o === null)
      throw new TypeError(`PrecisionPolicy: ${at} is ${String(o)}; expected an object`);
    if (o.modules === undefined && o.layers === undefined)
      throw new TypeError(
        `PrecisionPolicy: ${at} has neither 'modules' nor 'layers'; expected at least one`,
      );
    if (o.modules !== undefined && typeof o.modules !== 'string' && !(o.modules instanceof RegExp))
      throw new TypeError(
        `PrecisionPolicy: ${at}.modules is ${String(o.modules)}; expected a glob string or a RegExp`,
      );
    if (o.layers !== undefined) {
      const l = o.layers;
      if (
        !Array.isArray(l) ||
        l.length !== 2 ||
        !l.every((v) => Number.isInteger(v) && v >= 0) ||
        l[0]! > l[1]!
      )
        throw new RangeError(
          `PrecisionPolicy: ${at}.layers is ${JSON.stringify(l)}; expected [first, last] with 0 <= first <= last`,
        );
    }
    if (o.compute === undefined && o.params === undefined)
      throw new TypeError(`PrecisionPolicy: ${at} sets neither 'compute' nor 'params'`);
    if (o.compute !== undefined) checkDType(`${at}.compute`, o.compute);
    if (o.params !== undefined) checkDType(`${at}.params`, o.params);
  });
  const layerPrefix = policy.layerPrefix ?? 'model.layers';
  if (typeof layerPrefix !== 'string')
    throw new TypeError(
      `PrecisionPolicy: layerPrefix is ${String(layerPrefix)}; expected a string`,
    );
  return { compute, params, f32Ops: [...f32Ops], overrides: [...overrides], layerPrefix };
}

/** The path itself and each of its ancestors ('a.b.c' → 'a.b.c', 'a.b', 'a'). */
function selfAndAncestors(path: string): string[] {
  if (path === '') return [''];
  const parts = path.split('.');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
}

function matches(o: PolicyOverride, path: string, prefix: string): boolean {
  const chain = selfAndAncestors(path);
  if (o.modules !== undefined) {
    const re = patternToRegExp(o.modules);
    if (!chain.some((p) => re.test(p))) return false;
  }
  if (o.layers !== undefined) {
    const [first, last] = o.layers;
    const head = `${prefix}.`;
    if (!path.startsWith(head)) return false;
    const index = Number(path.slice(head.length).split('.')[0]);
    if (!Number.isInteger(index) || index < first || index > last) return false;
  }
  return true;
}

/** Resolves `policy` against `model`: one {@link ModuleAssignment} per module instance. */
export function resolvePolicy(policy: PrecisionPolicy, model: Module): ResolvedPolicy {
  const spec = resolvePolicySpec(policy);
  const modules = new Map<Module, ModuleAssignment>();
  spec.overrides.forEach((o, i) => {
    if (o.layers === undefined) return;
    const head = `${spec.layerPrefix}.`;
    const hit = model.namedModules().some(([p]) => p.startsWith(head));
    if (!hit)
      throw new RangeError(
        `PrecisionPolicy: overrides[${i}].layers needs decoder layers at '${spec.layerPrefix}.<i>'; the model has none (set layerPrefix)`,
      );
  });
  for (const [path, module] of model.namedModules()) {
    let compute = spec.compute;
    let params = spec.params;
    for (const o of spec.overrides) {
      if (!matches(o, path, spec.layerPrefix)) continue;
      if (o.compute) compute = o.compute;
      if (o.params) params = o.params;
    }
    const seen = modules.get(module);
    if (seen && (seen.compute !== compute || seen.params !== params))
      throw new Error(
        `PrecisionPolicy: module '${path}' is shared with '${seen.path}' but the policy gives them compute ${compute}/${seen.compute} and params ${params}/${seen.params}; shared modules need one assignment`,
      );
    if (!seen) modules.set(module, { path, compute, params });
  }
  return { spec, modules };
}
