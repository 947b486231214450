/**
 * Makes the wasm backend complete: every op with a reference ('cpu') kernel and
 * no wasm kernel gets one that runs the reference kernel on wasm storage (whose
 * handles expose the same `.data` typed arrays). Called when tensor-core's
 * kernels load and again whenever a wasm device opens, so that kernels other
 * packages registered in between are covered too.
 */
import { hasKernel, registerKernel, registeredOps } from '../../registry.js';
import type { WasmBackend } from './wasm-backend.js';
import { runReference } from './views.js';

/** Registers reference fallbacks on 'wasm' for every op that has none; returns the ops added. */
export function registerWasmFallbacks(): string[] {
  const added: string[] = [];
  for (const op of registeredOps('cpu')) {
    if (hasKernel(op, 'wasm')) continue;
    registerKernel<WasmBackend, unknown>(op, 'wasm', (b, inputs, outputs, attrs) =>
      runReference(op, b, inputs, outputs, attrs),
    );
    added.push(op);
  }
  return added;
}
