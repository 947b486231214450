import { defineConfig } from 'vitest/config';

// One suite for the whole workspace: each package and app is a vitest project
// with its own vitest.config.ts, so `pnpm --filter <pkg> test` runs it alone.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'],
  },
});
