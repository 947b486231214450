/**
 * Quantised checkpoints in safetensors: each QuantLinear's parts as
 * `<path>.qweight.<i>.codes` (U32 packed codes), `.scales` (F32), `.zeros` (F32,
 * asymmetric parts) and `.columns` (U32, mixed scheme), every other parameter
 * under its usual name, and the layout in `__metadata__["fathom.quant"]`.
 */
import { type Tensor, keep } from '@fathom/tensor-core';
import { Linear, type Module, loadSafetensors, saveSafetensors } from '@fathom/nn-layers';
import { packedWords } from './packing.js';
import { QuantLinear } from './quant-linear.js';
import { type DeviceQuantPart, QuantWeight } from './quant-weight.js';
import { scaleCount } from './quantize.js';
import { type ResolvedScheme, resolveScheme } from './scheme.js';

/** The metadata key holding the quantisation layout. */
export const QUANT_METADATA_KEY = 'fathom.quant';

interface PartLayout {
  bits: 4 | 8;
  symmetric: boolean;
  rows: number;
  cols: number;
  rowBlock: number;
  groupSize: number;
  hasColumns: boolean;
}

interface LayerLayout {
  scheme: ResolvedScheme;
  rows: number;
  cols: number;
  parts: PartLayout[];
}

interface QuantLayout {
  format: 1;
  layers: Record<string, LayerLayout>;
}

/**
 * Saves a model holding QuantLinear layers (see `quantizeModel`) to a safetensors file,
 * atomically. `metadata` adds string entries (e.g. the model config as JSON).
 */
export async function saveQuantizedModel(
  model: Module,
  path: string,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors = new Map<string, Tensor>(model.stateDict());
  const layout: QuantLayout = { format: 1, layers: {} };
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof QuantLinear)) continue;
    const w = m.weight;
    layout.layers[name] = {
      scheme: w.scheme,
      rows: w.rows,
      cols: w.cols,
      parts: w.parts.map((p) => ({
        bits: p.bits,
        symmetric: p.symmetric,
        rows: p.rows,
        cols: p.cols,
        rowBlock: p.rowBlock,
        groupSize: p.groupSize,
        hasColumns: p.columns !== null,
      })),
    };
    w.parts.forEach((p, i) => {
      const prefix = `${name}.qweight.${i}`;
      tensors.set(`${prefix}.codes`, p.codes);
      tensors.set(`${prefix}.scales`, p.scales);
      if (p.zeros) tensors.set(`${prefix}.zeros`, p.zeros);
      if (p.columns) tensors.set(`${prefix}.columns`, p.columns);
    });
  }
  if (Object.keys(layout.layers).length === 0)
    throw new Error('saveQuantizedModel: model has no QuantLinear layer; quantise it first');
  await saveSafetensors(path, tensors, {
    ...metadata,
    [QUANT_METADATA_KEY]: JSON.stringify(layout),
  });
}

function parseLayout(text: string | undefined, file: string): QuantLayout {
  if (text === undefined)
    throw new Error(
      `loadQuantizedModel: ${file} has no '${QUANT_METADATA_KEY}' metadata; expected a quantised checkpoint`,
    );
  let layout: QuantLayout;
  try {
    layout = JSON.parse(text) as QuantLayout;
  } catch (error) {
    throw new Error(
      `loadQuantizedModel: ${file}: '${QUANT_METADATA_KEY}' is not JSON (${String(error)})`,
      { cause: error },
    );
  }
  if (layout.format !== 1 || typeof layout.layers !== 'object' || layout.layers === null)
    throw new Error(
      `loadQuantizedModel: ${file}: '${QUANT_METADATA_KEY}' has format ${JSON.stringify(layout.format)}; expected 1`,
    );
  return layout;
}

/**
 * Loads a quantised checkpoint into `model`, built with the same architecture (its Linear
 * layers are replaced by QuantLinear layers rebuilt from the file; every other parameter
 * is loaded in place, strictly). Returns the file's metadata and the quantised paths.
 */
export async function loadQuantizedModel(
  model: Module,
  path: string,
): Promise<{ metadata: Record<string, string>; layers: string[] }> {
  const device = model.parameters()[0]?.device;
  if (!device) throw new Error('loadQuantizedModel: model has no parameters to take a device from');
  const { tensors, metadata } = await loadSafetensors(path, device);
  const used = new Set<string>();
  const take = (name: string, dtype: string, length: number): Tensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`loadQuantizedModel: ${path} lacks tensor '${name}'`);
    if (t.dtype !== dtype || t.size !== length)
      throw new Error(
        `loadQuantizedModel: ${path}: '${name}' is ${t.dtype} [${t.shape.join(',')}]; expected ${dtype} [${length}]`,
      );
    used.add(name);
    return keep(t);
  };
  const layout = parseLayout(metadata[QUANT_METADATA_KEY], path);
  const layers: string[] = [];
  try {
    for (const [name, l] of Object.entries(layout.layers)) {
      const scheme = resolveScheme(
        l.scheme,
        `loadQuantizedModel: ${path}: layers['${name}'].scheme`,
      );
      const linear = model.getSubmodule(name);
      if (
        !(linear instanceof Linear) ||
        linear.outFeatures !== l.rows ||
        linear.inFeatures !== l.cols
      )
        throw new Error(
          `loadQuantizedModel: '${name}' in ${path} is a ${l.rows}×${l.cols} quantised Linear; the model has ${linear instanceof Linear ? `a ${linear.outFeatures}×${linear.inFeatures} Linear` : `a ${linear.constructor.name}`} there`,
        );
      const parts: DeviceQuantPart[] = l.parts.map((p, i) => {
        const prefix = `${name}.qweight.${i}`;
        const n = scaleCount(p);
        return {
          bits: p.bits,
          symmetric: p.symmetric,
          rows: p.rows,
          cols: p.cols,
          rowBlock: p.rowBlock,
          groupSize: p.groupSize,
          codes: take(`${prefix}.codes`, 'u32', packedWords(p.rows * p.cols, p.bits)),
          scales: take(`${prefix}.scales`, 'f32', n),
          zeros: p.symmetric ? null : take(`${prefix}.zeros`, 'f32', n),
          columns: !p.hasColumns ? null : take(`${prefix}.columns`, 'u32', p.cols),
        };
      });
      model.setSubmodule(
        name,
        new QuantLinear(new QuantWeight(scheme, l.rows, l.cols, parts), linear.bias),
      );
      linear.weight.dispose();
      layers.push(name);
    }
    const rest = new Map([...tensors].filter(([n]) => !used.has(n)));
    model.loadStateDict(rest);
  } finally {
    for (const [n, t] of tensors) if (!used.has(n)) t.dispose();
  }
  return { metadata, layers };
}
