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
    // Files share one worker process and the modules it has loaded (as in vitest.config.ts): importing
    // the service, Fastify and playwright-core again for each of 14 files cost more than the tests
    // themselves on a loaded 2-core machine. Safe for the same reasons: nothing mocks modules, stubs
    // globals or the environment, or fakes timers, and every file closes its service and browser.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
