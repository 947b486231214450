/** Native fused cross-entropy forward and backward (contracts in ops/cross-entropy.ts). */
import type { CrossEntropyAttrs } from '../../ops/cross-entropy.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { type WasmBackend, WasmStorage } from './wasm-backend.js';
import { isContiguous, isDenseF32, ptrOf, runReference, worthThreads } from './views.js';

registerKernel<WasmBackend, CrossEntropyAttrs>(
  'cross_entropy',
  'wasm',
  (b, inputs, outputs, attrs) => {
    const [x, t] = inputs;
    const ok =
      isDenseF32(x!) &&
      t!.dtype === 'i32' &&
      t!.handle instanceof WasmStorage &&
      isContiguous(t!) &&
      outputs.every((o) => o.dtype === 'f32');
    if (!ok) return runReference('cross_entropy', b, inputs, outputs, attrs);
    b.count('cross_entropy', true);
    const C = x!.shape[x!.shape.length - 1]!;
    const N = sizeOf(t!.shape);
    const none = attrs.reduction === 'none';
    const rowLoss = none ? ptrOf(outputs[0]!) : b.scratch(Math.max(4, N * 4));
    if (N > 0)
      b.run(
        'cross_entropy_f32',
        [
          ptrOf(x!),
          ptrOf(t!),
          rowLoss,
          ptrOf(outputs[1]!),
          N,
          C,
          attrs.ignoreIndex,
          attrs.labelSmoothing,
        ],
        worthThreads(b, N * C, 32768) && N > 1,
      );
    if (none) return;
    // The reduction over rows is short: sum in float64 on the host, as the reference does.
    const losses = b.heapF32().subarray(rowLoss / 4, rowLoss / 4 + N);
    const targets = (t!.handle as WasmStorage).data;
    let total = 0;
    let count = 0;
    for (let r = 0; r < N; r++) {
      if (targets[t!.offset + r] === attrs.ignoreIndex) continue;
      count++;
      total += losses[r]!;
    }
    const loss = (outputs[0]!.handle as WasmStorage).data;
    loss[0] = attrs.reduction === 'sum' ? total : count === 0 ? NaN : total / count;
    (outputs[2]!.handle as WasmStorage).data[0] = count;
  },
);

registerKernel<WasmBackend, CrossEntropyAttrs>(
  'cross_entropy_grad',
  'wasm',
  (b, inputs, outputs, attrs) => {
    const [x, t, lse, g, countView] = inputs;
    const ok =
      isDenseF32(x!) &&
      t!.dtype === 'i32' &&
      t!.handle instanceof WasmStorage &&
      isContiguous(t!) &&
      isDenseF32(lse!) &&
      isDenseF32(g!) &&
      outputs[0]!.dtype === 'f32';
    if (!ok) return runReference('cross_entropy_grad', b, inputs, outputs, attrs);
    b.count('cross_entropy_grad', true);
    const C = x!.shape[x!.shape.length - 1]!;
    const N = sizeOf(t!.shape);
    const perRow = attrs.reduction === 'none' ? 1 : 0;
    const divisor =
      attrs.reduction === 'mean' ? (countView!.handle as WasmStorage).data[countView!.offset]! : 1;
    if (N === 0 || C === 0) return;
    b.run(
      'cross_entropy_grad_f32',
      [
        ptrOf(x!),
        ptrOf(t!),
        ptrOf(lse!),
        ptrOf(g!),
        perRow,
        divisor,
        ptrOf(outputs[0]!),
        N,
        C,
        attrs.ignoreIndex,
        attrs.labelSmoothing,
      ],
      worthThreads(b, N * C, 32768) && N > 1,
    );
  },
);
