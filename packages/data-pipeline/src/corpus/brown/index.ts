export { BROWN_CATEGORIES, isBrownCategory } from './categories.js';
export type { BrownCategory } from './categories.js';
export { parseBrownTagged } from './parse.js';
export type { BrownToken, BrownSentence, BrownParagraph } from './parse.js';
export { detokenizeBrown, detokenizeBrownParagraph } from './detokenize.js';
export { assignSplits, DEFAULT_SPLIT_SALT } from './split.js';
export type { CorpusSplit } from './split.js';
export { brownCorpusDirectory, loadBrownCorpus, streamBrownCorpus } from './brown-corpus.js';
export type { BrownCorpusOptions, BrownDocument, BrownDocumentMeta } from './brown-corpus.js';
