/**
 * Swapping a model's Linear layers for {@link QuantLinear}s, with the model's
 * parameter bytes before and after.
 */
import { Linear, type Module, type NamePattern, patternToRegExp } from '@fathom/nn-layers';
import { QuantLinear } from './quant-linear.js';
import { QuantWeight } from './quant-weight.js';
import { quantizeMatrix } from './quantize.js';
import { type QuantScheme, resolveScheme } from './scheme.js';

/** What {@link quantizeModel} quantises and how. */
export interface QuantizeModelSpec {
  scheme: QuantScheme;
  /** Module paths to quantise (default every Linear: `'**'`), e.g. `'**.mlp.*'`. */
  targets?: NamePattern[];
  /** Also quantise `lm_head` (default false: the output projection is the most sensitive). */
  includeLmHead?: boolean;
}

/** Result of {@link quantizeModel}. */
export interface QuantizeModelReport {
  /** Paths of the layers now quantised. */
  layers: string[];
  /** Bytes of the model's parameters (and quantised weights) before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Bytes of a model's distinct parameters plus the packed weights of its QuantLinear layers. */
export function modelBytes(model: Module): number {
  let n = model.parameters().reduce((s, p) => s + p.size * (p.dtype === 'f32' ? 4 : 2), 0);
  for (const [, m] of model.namedModules()) if (m instanceof QuantLinear) n += m.weight.byteLength;
  return n;
}

/**
 * Replaces every Linear matching the spec with a QuantLinear holding its quantised weight
 * (the Linear's weight is freed; a weight shared with another module, e.g. a tied LM head,
 * is left alone). Reads each weight from the device once.
 */
export async function quantizeModel(
  model: Module,
  spec: QuantizeModelSpec,
): Promise<QuantizeModelReport> {
  const scheme = resolveScheme(spec.scheme, 'quantizeModel: spec.scheme');
  const targets = (spec.targets ?? ['**']).map(patternToRegExp);
  const bytesBefore = modelBytes(model);
  const useCount = new Map<unknown, number>();
  for (const [, p] of model.namedParameters({ withDuplicates: true }))
    useCount.set(p, (useCount.get(p) ?? 0) + 1);
  const layers: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !targets.some((re) => re.test(path))) continue;
    if (!spec.includeLmHead && /(^|\.)lm_head$/.test(path)) continue;
    if ((useCount.get(m.weight) ?? 0) > 1) continue;
    const values = await m.weight.toArray();
    const q = quantizeMatrix(values, m.outFeatures, m.inFeatures, scheme);
    const bias = m.bias;
    model.setSubmodule(path, new QuantLinear(QuantWeight.upload(q, m.weight.device), bias));
    m.weight.dispose();
    layers.push(path);
  }
  if (layers.length === 0)
    throw new Error(
      `quantizeModel: no Linear layer matches spec.targets ${targets.map(String).join(', ')}`,
    );
  return { layers, bytesBefore, bytesAfter: modelBytes(model) };
}
