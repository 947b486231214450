/**
 * Converts each module's parameters to the storage dtype its policy assigns,
 * through nn-layers' public `Module.to` on the module that owns them. A
 * parameter shared across modules (a tied LM head) is converted once and the
 * other holders are re-pointed with `Linear.tieWeight`; other kinds of
 * cross-module sharing are refused, since Module offers no public way to
 * replace a parameter elsewhere.
 */
import { Linear, type Module } from '@fathom/nn-layers';
import { type Tensor, isFloat } from '@fathom/tensor-core';
import type { ResolvedPolicy } from './policy.js';

/** A module's own parameters (not its submodules'), shared ones included. */
export function ownParameters(module: Module): [string, Tensor][] {
  return module.namedParameters({ withDuplicates: true }).filter(([n]) => !n.includes('.'));
}

interface Holder {
  module: Module;
  path: string;
  name: string;
}

/** Converts parameters in place per `resolved`; validates everything before changing anything. */
export function convertParameters(resolved: ResolvedPolicy): void {
  const holders = new Map<Tensor, Holder[]>();
  for (const [module, a] of resolved.modules) {
    for (const [name, p] of ownParameters(module)) {
      const list = holders.get(p) ?? [];
      list.push({ module, path: a.path, name });
      holders.set(p, list);
    }
  }
  const target = (h: Holder): string => resolved.modules.get(h.module)!.params;
  const toConvert = new Set<Module>();
  for (const [p, hs] of holders) {
    if (!isFloat(p.dtype)) continue;
    const want = target(hs[0]!);
    for (const h of hs.slice(1)) {
      if (target(h) !== want)
        throw new Error(
          `PrecisionPolicy: parameter '${hs[0]!.path}.${hs[0]!.name}' is shared with '${h.path}.${h.name}', but the policy stores it as ${want} in one and ${target(h)} in the other`,
        );
    }
    if (p.dtype === want) continue;
    const owners = [...hs].sort(
      (a, b) => Number(a.module instanceof Linear) - Number(b.module instanceof Linear),
    );
    const first = owners[0]!;
    if (first.module.namedChildren().length > 0)
      throw new Error(
        `PrecisionPolicy: cannot convert '${first.path}.${first.name}' to ${want}: its module has submodules, and Module.to would convert those too`,
      );
    for (const h of owners.slice(1)) {
      if (h.module !== first.module && !(h.module instanceof Linear && h.name === 'weight'))
        throw new Error(
          `PrecisionPolicy: cannot convert '${first.path}.${first.name}' to ${want}: it is shared with '${h.path}.${h.name}', which cannot be re-pointed (only a Linear's tied weight can)`,
        );
    }
    toConvert.add(first.module);
  }
  const ordered = [...toConvert].sort(
    (a, b) => Number(a instanceof Linear) - Number(b instanceof Linear),
  );
  for (const module of ordered) {
    const before = ownParameters(module);
    const dtype = resolved.modules.get(module)!.params;
    if (before.every(([, p]) => p.dtype === dtype || !isFloat(p.dtype))) continue;
    const others = before.map(([, p]) => (holders.get(p) ?? []).filter((h) => h.module !== module));
    module.to(dtype);
    const after = new Map(ownParameters(module));
    before.forEach(([name], i) => {
      const next = after.get(name)!;
      for (const h of others[i]!) (h.module as Linear).tieWeight(next);
    });
  }
}
