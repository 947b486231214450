/**
 * One `CausalLm` forward that keeps the requested intermediate values. The hooks hand over
 * every hidden state and attention map; forward still uses them after the hook returns, so
 * the unrequested ones are released only once forward is done.
 */
import type { CausalLm } from '@fathom/nn-layers';
import { type Tensor, mul } from '@fathom/tensor-core';

/** What {@link captureForward} keeps besides the logits. */
export interface CaptureRequest {
  /** Hidden-state indices (0 = embedding output, l = output of layer l). */
  hidden?: Iterable<number>;
  /** Attention-map layers, 0-based block indices as the hook reports them. */
  attention?: Iterable<number>;
}

/** The result of {@link captureForward}; the caller owns every tensor in it. */
export interface Captured {
  logits: Tensor;
  hidden: Map<number, Tensor>;
  attention: Map<number, Tensor>;
}

/** Runs `model.forward(ids)` and keeps the requested hidden states and attention maps. */
export function captureForward(model: CausalLm, ids: Tensor, request: CaptureRequest): Captured {
  const wantHidden = new Set(request.hidden ?? []);
  const wantAttention = new Set(request.attention ?? []);
  const hidden = new Map<number, Tensor>();
  const attention = new Map<number, Tensor>();
  const seen = new Set<Tensor>();
  const kept = new Set<Tensor>();
  const drop: Tensor[] = [];
  // A kept tensor is owned by the result; LayerDrop hands the same tensor on for a skipped
  // layer, so a second wanted index gets its own handle (a copy that keeps the graph).
  const take = (t: Tensor): Tensor => {
    if (kept.has(t)) return mul(t, 1);
    kept.add(t);
    return t;
  };
  const release = (t: Tensor): void => {
    if (seen.has(t)) return;
    seen.add(t);
    drop.push(t);
  };
  let logits: Tensor;
  try {
    logits = model.forward(ids, {
      hooks: {
        hiddenState: (layer, h) => {
          if (wantHidden.has(layer)) hidden.set(layer, take(h));
          else release(h);
        },
        ...(wantAttention.size > 0
          ? {
              attentionProbs: (layer: number, probs: Tensor) => {
                if (wantAttention.has(layer)) attention.set(layer, take(probs));
                else release(probs);
              },
            }
          : {}),
      },
    });
  } catch (error) {
    for (const t of [...hidden.values(), ...attention.values()]) t.dispose();
    throw error;
  } finally {
    for (const t of drop) if (!kept.has(t)) t.dispose();
  }
  return { logits, hidden, attention };
}
