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
    // A test's waits in a row (a claim, a handshake, a re-render, each with a 60 s ceiling) must fit.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // expect.poll's own default ceiling is 1 s: a poll written without one would fail on a busy
    // machine while a fetch and a re-render are still on their way.
    expect: { poll: { timeout: 60_000, interval: 50 } },
  },
});
