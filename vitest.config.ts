import { defineConfig } from 'vitest/config';

// One PGlite instance per test file; files run in parallel forks (2 cores: 2 workers).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/faults/**', 'test/e2e/**', 'node_modules/**', 'dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
