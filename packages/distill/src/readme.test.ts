import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('README', () => {
  it('runs its example as written', async () => {
    const readme = await readFile(join(here, '..', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    // Run against this package's source (the package name resolves to dist, which tests do not build).
    const code = block!.replace("from '@fathom/distill'", "from './index.js'");
    const file = join(here, `.readme-example-${process.pid}.ts`);
    await writeFile(file, code);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
        cwd: join(here, '..'),
        timeout: 100_000,
      });
      const steps = stdout.match(/^step \d+ \((features|attention|logits)\): loss \d+\.\d+$/gm);
      expect(steps, stdout).toHaveLength(8);
      expect(stdout).toMatch(/teacher holds \d+ bytes/);
    } finally {
      await rm(file, { force: true });
    }
  });
});
