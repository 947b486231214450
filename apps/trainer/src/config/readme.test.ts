import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readConfigFile, validateConfig } from './load.js';
import { CONFIG_DOCS_BEGIN, CONFIG_DOCS_END, configMarkdown } from './markdown.js';
import { trainConfigSchema } from './schema.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('README', () => {
  it('has the config reference generated from the schema (run `pnpm config-docs` to update)', async () => {
    const text = await readFile(join(APP, 'README.md'), 'utf8');
    const start = text.indexOf(CONFIG_DOCS_BEGIN);
    const end = text.indexOf(CONFIG_DOCS_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    // Prettier re-pads the table's columns; compare with padding removed.
    const normal = (md: string) =>
      md
        .split('\n')
        .map((l) =>
          l
            .trim()
            .replace(/ *\| */g, '|')
            .replace(/\|-+/g, '|-'),
        )
        .filter((l) => l.length > 0)
        .join('\n');
    expect(normal(text.slice(start, end + CONFIG_DOCS_END.length))).toBe(normal(configMarkdown()));
  });

  it('documents every field of the schema and every command', async () => {
    const text = await readFile(join(APP, 'README.md'), 'utf8');
    for (const key of Object.keys(trainConfigSchema.shape)) expect(text).toContain(`\`${key}`);
    for (const command of ['prepare', 'train', 'resume', 'sweep', 'dashboard', 'config-docs'])
      expect(text).toContain(`fathom-train ${command}`);
  });

  it('ships valid example configs', async () => {
    for (const name of ['default.yaml', 'sweep.yaml']) {
      const raw = await readConfigFile(join(APP, 'configs', name));
      expect(() => validateConfig(raw, name)).not.toThrow();
    }
  });
});
