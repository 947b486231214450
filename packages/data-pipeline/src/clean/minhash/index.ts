export { shingleWords, shingleHashes } from './shingles.js';
export { MinHasher, estimateJaccard } from './minhasher.js';
export { optimalLshParams, lshCandidateProbability } from './lsh-params.js';
export type { LshParams } from './lsh-params.js';
export { MinHashLshIndex } from './lsh-index.js';
export { minhashDedup } from './near-dedup.js';
export type { MinHashDedupOptions } from './near-dedup.js';
