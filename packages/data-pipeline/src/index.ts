// Public API of @fathom/data-pipeline. Each topic keeps its own barrel file.
export * from './tokenizer/index.js';
export * from './random/index.js';
export * from './hash/index.js';
export * from './corpus/index.js';
export * from './clean/index.js';
export * from './augment/index.js';
export * from './shards/index.js';
export * from './batching/index.js';
export * from './mixture/index.js';
