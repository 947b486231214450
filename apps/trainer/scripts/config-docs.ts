/**
 * Prints the config schema as a Markdown table, or with `--write` replaces the generated
 * section of README.md (between the config-docs markers). `src/config/readme.test.ts`
 * fails when the README section is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_DOCS_BEGIN, CONFIG_DOCS_END, configMarkdown } from '../src/config/markdown.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

if (process.argv.includes('--write')) {
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf(CONFIG_DOCS_BEGIN);
  const end = text.indexOf(CONFIG_DOCS_END);
  if (start < 0 || end < start) throw new Error(`${readme} has no config-docs markers`);
  const next =
    text.slice(0, start) + configMarkdown().trimEnd() + text.slice(end + CONFIG_DOCS_END.length);
  await writeFile(readme, next);
  console.log(`updated ${readme}`);
} else {
  process.stdout.write(configMarkdown());
}
