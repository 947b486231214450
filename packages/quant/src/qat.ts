/**
 * Quantisation-aware training: `prepareQat` swaps Linear layers for
 * {@link FakeQuantLinear}s that train their float weight through the fake
 * quantiser (straight-through gradients); `convertQat` then stores each one as a
 * {@link QuantLinear} with the same scheme.
 */
import { type Tensor, add, matmul } from '@fathom/tensor-core';
import { Linear, Module, type NamePattern, patternToRegExp } from '@fathom/nn-layers';
import { fakeQuantize, weightGrid } from './fake-quant.js';
import { QuantLinear } from './quant-linear.js';
import { QuantWeight } from './quant-weight.js';
import { quantizeMatrix } from './quantize.js';
import { type QuantizeModelReport, modelBytes } from './quantize-model.js';
import { type Int4Scheme, type Int8Scheme, type QuantScheme, resolveScheme } from './scheme.js';

/** A Linear whose forward uses its weight fake-quantised under `scheme` (int8 or int4). */
export class FakeQuantLinear extends Module {
  readonly scheme: Int8Scheme | Int4Scheme;

  constructor(base: Linear, scheme: QuantScheme) {
    super();
    const s = resolveScheme(scheme, 'FakeQuantLinear: scheme');
    if (s.kind === 'mixed')
      throw new RangeError(
        "FakeQuantLinear: scheme.kind is 'mixed'; QAT supports 'int8' and 'int4' (train with int4, then quantise to mixed)",
      );
    this.scheme = s;
    // Same names and tensors as the Linear, so optimizers and state dicts carry over.
    this.registerParameter('weight', base.weight, base.weight.requiresGrad);
    if (base.bias) this.registerParameter('bias', base.bias, base.bias.requiresGrad);
  }

  /** The float weight, [out, in]. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** The bias, or null. */
  get bias(): Tensor | null {
    return this.maybeParam('bias');
  }

  /** x: [..., in] → [..., out] with the weight fake-quantised. */
  forward(x: Tensor): Tensor {
    const w = this.weight;
    if (x.shape[x.rank - 1] !== w.shape[1])
      throw new RangeError(
        `FakeQuantLinear: input has shape [${x.shape.join(',')}]; expected last dim ${w.shape[1]}`,
      );
    const grid = weightGrid(w, this.scheme);
    const wq = fakeQuantize(w, grid);
    grid.scales.dispose();
    grid.zeros.dispose();
    const y = matmul(x, wq, { transB: true });
    wq.dispose();
    const b = this.bias;
    if (!b) return y;
    const out = add(y, b);
    y.dispose();
    return out;
  }
}

/** What {@link prepareQat} prepares. */
export interface QatSpec {
  /** int8 or int4. */
  scheme: QuantScheme;
  /** Module paths (default every Linear). */
  targets?: NamePattern[];
  /** Also fake-quantise `lm_head` (default false). */
  includeLmHead?: boolean;
}

/** Swaps the matching Linear layers for FakeQuantLinear; returns their paths. */
export function prepareQat(model: Module, spec: QatSpec): string[] {
  const targets = (spec.targets ?? ['**']).map(patternToRegExp);
  const prepared: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !targets.some((re) => re.test(path))) continue;
    if (!spec.includeLmHead && /(^|\.)lm_head$/.test(path)) continue;
    model.setSubmodule(path, new FakeQuantLinear(m, spec.scheme));
    prepared.push(path);
  }
  if (prepared.length === 0)
    throw new Error(
      `prepareQat: no Linear layer matches spec.targets ${targets.map(String).join(', ')}`,
    );
  return prepared;
}

/** Replaces every FakeQuantLinear with a QuantLinear of its trained weight (freed afterwards). */
export async function convertQat(model: Module): Promise<QuantizeModelReport> {
  const bytesBefore = modelBytes(model);
  const layers: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof FakeQuantLinear)) continue;
    const w = m.weight;
    const q = quantizeMatrix(await w.toArray(), w.shape[0]!, w.shape[1]!, m.scheme);
    const bias = m.bias;
    bias?.requireGrad(false);
    model.setSubmodule(path, new QuantLinear(QuantWeight.upload(q, w.device), bias));
    w.dispose();
    layers.push(path);
  }
  if (layers.length === 0)
    throw new Error('convertQat: model has no FakeQuantLinear; call prepareQat first');
  return { layers, bytesBefore, bytesAfter: modelBytes(model) };
}
