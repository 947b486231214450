export { Xoshiro128 } from './xoshiro128.js';
export type { Xoshiro128State } from './xoshiro128.js';
export { deriveSeed } from './seed.js';
export { shuffleInPlace } from './shuffle.js';
export { FeistelPermutation } from './feistel-permutation.js';
