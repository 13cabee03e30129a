import { defineConfig } from 'vitest/config';

// Dashboard end-to-end tests: the real service on the real PostgreSQL server, real HTTPS receivers and
// the system headless Chromium (scripts/ensure-chromium.sh). One file at a time: one browser at a time.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
