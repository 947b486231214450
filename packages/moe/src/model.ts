/**
 * Turning a CausalLm into an MoE model and running the per-step hooks a
 * trainer needs: the summed balance loss, routing-bias updates and the
 * routing statistics.
 */
import { type Tensor, Generator, add } from '@fathom/tensor-core';
import type { CausalLm, Module } from '@fathom/nn-layers';
import type { MoeConfigInput } from './config.js';
import { MoeLayer } from './moe-layer.js';

/**
 * Replaces the `mlp` of the decoder layers at `layerIndices` with
 * {@link MoeLayer}s (`model.layers.{i}.mlp`), on the model's device, seeded
 * from the model's seed so the same config gives the same weights. The
 * replaced MLPs' parameters are freed. Layers that share one block (layer
 * sharing) get one MoE layer. Returns the new layers by layer index. Create
 * the optimizer afterwards, over parameters that require grad.
 */
export function replaceMlpsWithMoe(
  model: CausalLm,
  config: MoeConfigInput,
  layerIndices: readonly number[],
): Map<number, MoeLayer> {
  const numLayers = model.config.numLayers;
  const out = new Map<number, MoeLayer>();
  const byBlock = new Map<Module, MoeLayer>();
  const device = model.lmHead.weight.device;
  for (const i of layerIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= numLayers)
      throw new RangeError(
        `replaceMlpsWithMoe: layer index ${i} is out of range; expected an integer in [0, ${numLayers})`,
      );
    const block = model.getSubmodule(`model.layers.${i}`);
    let moe = byBlock.get(block);
    if (!moe) {
      const old = block.getSubmodule('mlp');
      if (old instanceof MoeLayer)
        throw new Error(`replaceMlpsWithMoe: layer ${i}'s mlp is already an MoeLayer`);
      moe = new MoeLayer(
        { initStd: model.config.initializerRange, ...config },
        {
          hiddenSize: model.config.hiddenSize,
          device,
          generator: new Generator(model.config.seed * 7919 + 104729 + i),
        },
      );
      block.setSubmodule('mlp', moe);
      old.dispose();
      byBlock.set(block, moe);
    }
    out.set(i, moe);
  }
  return out;
}

/** The MoE layers of a model with their dotted names, each once. */
export function moeLayers(model: Module): [string, MoeLayer][] {
  const seen = new Set<MoeLayer>();
  const out: [string, MoeLayer][] = [];
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof MoeLayer) || seen.has(m)) continue;
    seen.add(m);
    out.push([name, m]);
  }
  return out;
}

/**
 * Sum of the weighted balance losses left by the last training forward of
 * each MoE layer (a scalar tensor to add to the language-model loss), or null
 * when no layer has one. Call it in the same scope as that forward.
 */
export function moeAuxLoss(model: Module): Tensor | null {
  const parts: Tensor[] = [];
  for (const [, layer] of moeLayers(model)) {
    const l = layer.auxLoss;
    if (!l) continue;
    if (l.isDisposed)
      throw new Error(
        'moeAuxLoss: the balance loss of the last forward was already freed; call moeAuxLoss in the scope of the forward',
      );
    parts.push(l);
  }
  let total = parts[0] ?? null;
  for (let i = 1; i < parts.length; i++) {
    const next = add(total!, parts[i]!);
    if (i > 1) total!.dispose();
    total = next;
  }
  return total;
}

/**
 * Auxiliary-loss-free balancing for every MoE layer with `biasUpdateRate`
 * > 0: bias += γ·sign(mean load − load) from the loads routed since the last
 * call. On the device, no readback. Call once after each optimizer step.
 */
export function updateRoutingBias(model: Module): void {
  for (const [, layer] of moeLayers(model)) layer.updateBias();
}
