export { WordNet, WORDNET_POS, wordnetDirectory } from './wordnet.js';
export type { WordNetPos } from './wordnet.js';
export type { WordNetSynset } from './data-file.js';
export { WordNetIndexFile } from './index-file.js';
export type { WordNetIndexEntry } from './index-file.js';
export { WordNetDataFile } from './data-file.js';
