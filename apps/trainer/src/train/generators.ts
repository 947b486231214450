/**
 * Every random generator a model draws from, found by walking the model's object graph, so
 * that a checkpoint can save and restore all of them (dropout masks and LayerDrop draws then
 * continue exactly). nn-layers keeps some generators in private fields (the embedding dropout,
 * each attention layer's dropout); walking finds them without depending on those names.
 */
import { Generator, type GeneratorState, Tensor, defaultGenerator } from '@fathom/tensor-core';

/** Generator states by path in the object graph, plus the global generator as `global`. */
export type GeneratorStates = Record<string, GeneratorState>;

/**
 * The distinct generators reachable from `root`, keyed by the first property path that
 * reaches each (a deterministic order: property insertion order, depth first). Tensors are
 * not entered.
 */
export function findGenerators(root: object): Map<string, Generator> {
  const found = new Map<string, Generator>();
  const seenGenerators = new Set<Generator>();
  const visited = new Set<object>();
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (value instanceof Generator) {
      if (!seenGenerators.has(value)) {
        seenGenerators.add(value);
        found.set(path, value);
      }
      return;
    }
    if (value instanceof Tensor || visited.has(value)) return;
    visited.add(value);
    if (value instanceof Map) {
      for (const [k, v] of value) walk(v, `${path}.${String(k)}`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}.${i}`));
      return;
    }
    // Only plain data and class instances of our own; skip devices and native objects.
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto !== null && proto !== Object.prototype && isForeign(value)) return;
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(root, '');
  return found;
}

function isForeign(value: object): boolean {
  const name = value.constructor?.name ?? '';
  return name === 'Device' || name.startsWith('GPU') || name.endsWith('Backend');
}

/** The states of every generator of `model`, and of the global generator (`global`). */
export function generatorStates(model: object): GeneratorStates {
  const out: GeneratorStates = { global: defaultGenerator().state() };
  for (const [path, g] of findGenerators(model)) out[`model.${path}`] = g.state();
  return out;
}

/**
 * Restores states saved by {@link generatorStates} into `model` (built with the same config)
 * and the global generator. The set of generators must match exactly.
 */
export function restoreGeneratorStates(model: object, states: GeneratorStates): void {
  const own = findGenerators(model);
  const expected = ['global', ...[...own.keys()].map((k) => `model.${k}`)].sort();
  const saved = Object.keys(states).sort();
  if (JSON.stringify(expected) !== JSON.stringify(saved))
    throw new Error(
      `restoreGeneratorStates: the checkpoint has generators [${saved.join(', ')}]; this model has [${expected.join(', ')}]`,
    );
  defaultGenerator().setState(states.global!);
  for (const [path, g] of own) g.setState(states[`model.${path}`]!);
}
