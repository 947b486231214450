import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'tensor-core',
    include: ['src/**/*.test.ts'],
    // Dawn on lavapipe compiles shaders on 2 cores: give GPU tests room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One Dawn instance per worker; forks isolate native crashes to one file.
    pool: 'forks',
  },
});
