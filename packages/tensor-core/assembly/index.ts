// Entry point of the wasm backend's module: every export is a kernel taking raw
// pointers into the shared memory, with (tid, nth) last for threaded dispatch.
export { matmul_f32, WORK_BYTES } from './matmul';
export { unary_f32, unary_grad_f32, binary_f32, copy32 } from './elementwise';
export { reduce_f32, softmax_f32, softmax_grad_f32 } from './rows';
export { norm_f32, norm_grad_input_f32, norm_grad_params_f32 } from './norm';
export { cross_entropy_f32, cross_entropy_grad_f32 } from './cross-entropy';
