// Every op function, for the Tensor class's methods and for index.ts.
export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './views.js';
export * from './norms.js';
export * from './cross-entropy.js';
export * from './random.js';
export * from './matmul.js';
export * from './softmax.js';
export * from './reduce-extra.js';
export * from './indexing.js';
export * from './join.js';
export * from './topk-cumsum.js';
export * from './swiglu.js';
export * from './attention.js';
export * from './linear.js';
export { backward } from '../autograd/backward.js';
export type { BackwardOptions } from '../autograd/backward.js';
