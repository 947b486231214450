// Every op function, for the Tensor class's methods and for index.ts.
export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './views.js';
export { backward } from '../autograd/backward.js';
export type { BackwardOptions } from '../autograd/backward.js';
