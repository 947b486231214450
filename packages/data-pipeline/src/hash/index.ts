export { fnv1a32, fnv1a64, fnv1a64Hex, fnv1a64Parts } from './fnv1a.js';
export { mix32, combine32 } from './mix32.js';
