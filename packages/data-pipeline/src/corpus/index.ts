export type { TextDocument, DocumentSource } from './document.js';
export * from './brown/index.js';
