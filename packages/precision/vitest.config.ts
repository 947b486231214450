import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'precision',
    include: ['src/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
