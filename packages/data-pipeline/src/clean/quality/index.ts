export { checkGopherQuality, gopherQualityFilter } from './gopher.js';
export type { GopherQualityOptions, QualityFailure } from './gopher.js';
export { findDuplicates, topNgramChars, duplicateNgramChars, WordNgrams } from './repetition.js';
export type { DuplicateStats } from './repetition.js';
