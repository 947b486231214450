/**
 * Turning what the user passes (tensors, named tensors, or explicit groups)
 * into named parameter groups, with the "no decay for norms and biases" rule
 * applied to named tensors.
 */
import { Tensor } from '@fathom/tensor-core';

/** A parameter with its name, as `model.namedParameters()` yields it. */
export type NamedParameter = readonly [name: string, param: Tensor];

/** One explicit group: its parameters plus hyper-parameters that override the optimizer's defaults. */
export type ParamGroupSpec<H> = Partial<H> & {
  /** The group's parameters, plain or named (unnamed ones are called `param.<index>`). */
  params: readonly Tensor[] | readonly NamedParameter[];
  /** Label used in state dicts and messages (default `group.<index>`). */
  name?: string;
};

/** Everything an optimizer accepts as its parameters. */
export type ParamsInput<H> =
  readonly Tensor[] | readonly NamedParameter[] | readonly ParamGroupSpec<H>[];

/**
 * Which named parameters get no weight decay: a pattern tested against the
 * name, a predicate, or `null` to decay everything.
 */
export type NoDecayRule = RegExp | ((name: string, param: Tensor) => boolean) | null;

/**
 * Biases and normalisation weights: names ending in `bias`, containing `norm`
 * (`input_layernorm.weight`, `model.norm.weight`, `LayerNorm.weight`), or
 * GPT-2's `ln_1.weight` / `ln_f.weight`.
 */
export const DEFAULT_NO_DECAY: RegExp = /(?:^|\.)bias$|norm|(?:^|\.)ln_?[^.]*\.weight$/i;

/** A group before defaults are merged in. */
export interface ResolvedGroup<H> {
  name: string;
  params: Tensor[];
  names: string[];
  overrides: Partial<H>;
}

function isNamed(x: unknown): x is NamedParameter {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && x[1] instanceof Tensor;
}

function isGroupSpec(x: unknown): x is ParamGroupSpec<unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'params' in x;
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return 'a Tensor';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return x === null ? 'null' : typeof x;
}

function namesAndTensors(
  op: string,
  list: readonly unknown[],
  where: string,
  counter: { next: number },
): { names: string[]; params: Tensor[] } {
  const names: string[] = [];
  const params: Tensor[] = [];
  list.forEach((item, i) => {
    if (item instanceof Tensor) {
      names.push(`param.${counter.next++}`);
      params.push(item);
    } else if (isNamed(item)) {
      counter.next++;
      names.push(item[0]);
      params.push(item[1]);
    } else {
      throw new TypeError(
        `${op}: ${where}[${i}] is ${describe(item)}; expected a Tensor or a [name, Tensor] pair`,
      );
    }
  });
  return { names, params };
}

function noDecay(rule: NoDecayRule, name: string, param: Tensor): boolean {
  if (rule === null) return false;
  if (rule instanceof RegExp) {
    rule.lastIndex = 0;
    return rule.test(name);
  }
  return rule(name, param);
}

/**
 * Normalises an optimizer's `params` argument into groups. Named parameters
 * (not explicit groups) are split into `decay` and `no_decay` by `rule`; the
 * `no_decay` group overrides `weightDecay` with 0.
 */
export function resolveGroups<H>(
  op: string,
  input: ParamsInput<H>,
  rule: NoDecayRule,
): ResolvedGroup<H>[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new TypeError(
      `${op}: params is ${Array.isArray(input) ? 'an empty array' : describe(input)}; expected a non-empty array of Tensors, [name, Tensor] pairs or groups`,
    );
  }
  const counter = { next: 0 };
  let groups: ResolvedGroup<H>[];
  if (input.every(isGroupSpec)) {
    groups = (input as readonly ParamGroupSpec<H>[]).map((spec, g) => {
      const { params, name, ...overrides } = spec;
      if (!Array.isArray(params))
        throw new TypeError(`${op}: group ${g} params is ${describe(params)}; expected an array`);
      return {
        name: name ?? `group.${g}`,
        ...namesAndTensors(op, params, `group ${g} params`, counter),
        overrides: overrides as Partial<H>,
      };
    });
  } else {
    const { names, params } = namesAndTensors(op, input, 'params', counter);
    const named = input.every(isNamed);
    if (!named || rule === null) {
      groups = [{ name: 'default', names, params, overrides: {} }];
    } else {
      const decay: ResolvedGroup<H> = { name: 'decay', names: [], params: [], overrides: {} };
      const plain: ResolvedGroup<H> = {
        name: 'no_decay',
        names: [],
        params: [],
        overrides: { weightDecay: 0 } as unknown as Partial<H>,
      };
      params.forEach((p, i) => {
        const target = noDecay(rule, names[i]!, p) ? plain : decay;
        target.names.push(names[i]!);
        target.params.push(p);
      });
      groups = [decay, plain].filter((g) => g.params.length > 0);
    }
  }
  assertDistinct(op, groups);
  return groups;
}

function assertDistinct<H>(op: string, groups: readonly ResolvedGroup<H>[]): void {
  const byTensor = new Map<Tensor, string>();
  const names = new Set<string>();
  const groupNames = new Set<string>();
  for (const g of groups) {
    if (groupNames.has(g.name)) throw new Error(`${op}: two groups are named '${g.name}'`);
    groupNames.add(g.name);
    g.params.forEach((p, i) => {
      const name = g.names[i]!;
      const seen = byTensor.get(p);
      if (seen !== undefined)
        throw new Error(
          `${op}: parameter '${name}' is the same tensor as '${seen}'; each parameter may appear once`,
        );
      if (names.has(name)) throw new Error(`${op}: two parameters are named '${name}'`);
      byTensor.set(p, name);
      names.add(name);
    });
  }
}
