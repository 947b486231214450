import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'trainer',
    include: ['src/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
  },
});
