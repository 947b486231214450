// Registers the wasm backend's kernels (imported for its side effect by device.ts):
// the native SIMD ones, then reference fallbacks for every other op.
import './elementwise-kernels.js';
import './matmul-kernels.js';
import './layout-kernels.js';
import './row-kernels.js';
import './norm-kernels.js';
import './cross-entropy-kernels.js';
import '../cpu/kernels.js';
import { registerWasmFallbacks } from './fallback.js';

registerWasmFallbacks();
