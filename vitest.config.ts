import { defineConfig } from 'vitest/config';

// One PGlite instance per test file; files run in parallel forks (2 cores: 2 workers).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/faults/**', 'test/e2e/**', 'node_modules/**', 'dist/**'],
    setupFiles: ['test/setup/fastcheck.ts'],
    // One migrated PGlite database dumped per run: each file loads it instead of running initdb.
    globalSetup: ['test/setup/pgliteTemplate.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Ceilings, not expectations: a loaded 2-core machine can be several times slower than a quiet one,
    // and every wait in the tests returns as soon as its condition holds.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
