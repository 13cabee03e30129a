import { defineConfig } from 'vitest/config';

// Fault-injection suite (`npm run test:faults`): real worker processes killed and restarted, database
// connections cut, misbehaving SIEMs, API fuzzing. Heavy, with
// generous timeouts; the whole suite is kept under about five minutes on 2 cores.
// One file at a time: the worker-process tests saturate both cores, and the receiver scenarios next
// to them then time out requests that are only "slow".
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    setupFiles: ['test/setup/fastcheck.ts'],
    pool: 'forks',
    maxWorkers: 1,
    // The files run one after another in one process, sharing the modules it has loaded (as in
    // vitest.config.ts): nothing here mocks modules, stubs globals or fakes timers, and every file
    // stops the processes, services and receivers it starts.
    isolate: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    // expect.poll's own default ceiling is 1 s: a poll written without one would fail on a busy
    // machine while the condition is still on its way.
    expect: { poll: { timeout: 60_000, interval: 50 } },
  },
});
