/**
 * `Module`: named parameters and submodules, state dicts, train/eval, freezing
 * and dtype conversion. Parameter names follow the attribute path
 * (`model.layers.0.self_attn.q_proj.weight`) so checkpoints match Hugging Face's.
 */
import {
  type DType,
  type Tensor,
  cast,
  executeInPlace,
  isFloat,
  keep,
  noGrad,
} from '@fathom/tensor-core';

/** A name filter: a RegExp, or a glob where `*` matches within one name segment and `**` across segments. */
export type NamePattern = RegExp | string;

/** Turns a {@link NamePattern} into a RegExp over whole names. */
export function patternToRegExp(pattern: NamePattern): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const source = escaped
    .split('**')
    .map((part) => part.replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Require exactly the module's keys (default true). */
  strict?: boolean;
}

/** Keys that did not line up in a non-strict load. */
export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

/** Base class of every layer and model. */
export abstract class Module {
  /** Training mode (dropout, LayerDrop active). */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter (made a leaf that requires grad, and kept out of any scope). */
  protected registerParameter(name: string, t: Tensor, requiresGrad = true): Tensor {
    if (name.includes('.'))
      throw new Error(`registerParameter: name '${name}' must not contain '.'`);
    keep(t);
    if (requiresGrad && !t.requiresGrad) t.requireGrad();
    this.params.set(name, t);
    return t;
  }

  /** Registers a submodule under `name` (a number becomes its index, as in ModuleList). */
  protected registerModule<M extends Module>(name: string | number, module: M): M {
    const key = String(name);
    if (key.includes('.')) throw new Error(`registerModule: name '${key}' must not contain '.'`);
    this.children.set(key, module);
    return module;
  }

  /** The submodule at a dotted path (`model.layers.0.self_attn`), or an error naming the missing part. */
  getSubmodule(path: string): Module {
    return path.split('.').reduce<Module>((m, part) => {
      const next = m.children.get(part);
      if (!next) throw new Error(`getSubmodule: '${path}' has no part '${part}'`);
      return next;
    }, this);
  }

  /** Replaces the submodule at a dotted path (used by LoRA and quantisation to swap layers). */
  setSubmodule(path: string, module: Module): void {
    const cut = path.lastIndexOf('.');
    const parent = cut < 0 ? this : this.getSubmodule(path.slice(0, cut));
    const name = path.slice(cut + 1);
    if (!parent.children.has(name)) throw new Error(`setSubmodule: '${path}' does not exist`);
    parent.children.set(name, module);
  }

  /**
   * The submodule registered under `name`. Layers call submodules through this rather
   * than a field, so that swapping one (LoRA, quantisation) takes effect.
   */
  protected child<M extends Module = Module>(name: string): M {
    const m = this.children.get(name);
    if (!m) throw new Error(`${this.constructor.name}: no submodule named '${name}'`);
    return m as M;
  }

  /** Direct submodules by name. */
  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** Every module below (and including) this one, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children)
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /**
   * Every parameter with its dotted name. A parameter shared by several modules
   * appears once, under its first name, unless `withDuplicates` is set.
   */
  namedParameters(options: { withDuplicates?: boolean } = {}): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, p] of module.params) {
        if (!options.withDuplicates && seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  /** Every distinct parameter. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of parameter values (distinct parameters; only trainable ones if asked). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => !options.trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** Name → tensor for every parameter, shared ones under each of their names (as PyTorch's state_dict). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters({ withDuplicates: true }));
  }

  /**
   * Copies values into the existing parameters (so optimizers holding them stay valid).
   * Shapes must match exactly; with `strict` (default) the key sets must match too.
   */
  loadStateDict(
    state: Map<string, Tensor> | Record<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const incoming = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !incoming.has(k));
    const unexpected = [...incoming.keys()].filter((k) => !own.has(k));
    if ((options.strict ?? true) && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new Error(`loadStateDict: ${parts.join('; ')}`);
    }
    for (const [key, target] of own) {
      const src = incoming.get(key);
      if (!src) continue;
      if (
        src.shape.length !== target.shape.length ||
        src.shape.some((d, i) => d !== target.shape[i])
      ) {
        throw new Error(
          `loadStateDict: '${key}' has shape [${src.shape.join(',')}] in the state dict but [${target.shape.join(',')}] in the model`,
        );
      }
    }
    noGrad(() => {
      for (const [key, target] of own) {
        const src = incoming.get(key);
        if (!src) continue;
        const fitted = src.device === target.device && src.dtype === target.dtype ? src : null;
        if (!fitted) {
          if (src.device !== target.device) {
            throw new Error(
              `loadStateDict: '${key}' is on ${src.device.name}; load it onto the model's device ${target.device.name} first`,
            );
          }
          const c = cast(src, target.dtype);
          executeInPlace('copy', [c], [target], {});
          c.dispose();
        } else if (fitted.storage !== target.storage) {
          executeInPlace('copy', [fitted], [target], {});
        }
      }
    });
    return { missing, unexpected };
  }

  /** Sets training mode here and below. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (dropout and LayerDrop off). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients for parameters whose names match (all when no pattern). Returns the names frozen. */
  freeze(pattern: NamePattern = /.*/): string[] {
    return this.setRequiresGrad(pattern, false);
  }

  /** Re-enables gradients for parameters whose names match. Returns the names unfrozen. */
  unfreeze(pattern: NamePattern = /.*/): string[] {
    return this.setRequiresGrad(pattern, true);
  }

  private setRequiresGrad(pattern: NamePattern, value: boolean): string[] {
    const re = patternToRegExp(pattern);
    const hit: string[] = [];
    for (const [name, p] of this.namedParameters()) {
      if (!re.test(name)) continue;
      p.requireGrad(value);
      if (!value) p.setGrad(null);
      hit.push(name);
    }
    return hit;
  }

  /**
   * Converts every floating-point parameter to `dtype`. New tensors replace the old ones
   * (which are disposed) everywhere they are shared; create optimizers after calling this.
   * Returns this.
   */
  to(dtype: DType): this {
    const replaced = new Map<Tensor, Tensor>();
    for (const [, m] of this.namedModules()) {
      for (const [name, p] of m.params) {
        if (!isFloat(p.dtype) || p.dtype === dtype) continue;
        let next = replaced.get(p);
        if (!next) {
          next = keep(noGrad(() => cast(p, dtype)));
          if (p.requiresGrad) next.requireGrad();
          replaced.set(p, next);
        }
        m.params.set(name, next);
      }
    }
    for (const old of replaced.keys()) old.dispose();
    return this;
  }

  /** The parameter registered under `name` on this module (layers read weights through this, never a cached field). */
  protected param(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`${this.constructor.name}: no parameter named '${name}'`);
    return p;
  }

  /** The parameter registered under `name`, or null. */
  protected maybeParam(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  /** Replaces the parameter `name` of this module (used by weight tying and sharing). */
  protected setParameter(name: string, t: Tensor): void {
    if (!this.params.has(name))
      throw new Error(`${this.constructor.name}: no parameter named '${name}' to replace`);
    this.params.set(name, keep(t));
  }

  /** Frees every parameter's and buffer's storage, here and below. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    const seen = new Set<Module>();
    for (const [, m] of this.namedModules()) {
      if (seen.has(m)) continue;
      seen.add(m);
      m.releaseBuffers();
    }
  }

  /** Subclasses holding non-parameter tensors (tables, masks) free them here. */
  protected releaseBuffers(): void {}
}
