import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/setup/sequencer.js';

// One PGlite instance per test file (loaded from the run's migrated template); files run in parallel forks.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/faults/**', 'test/e2e/**', 'node_modules/**', 'dist/**'],
    setupFiles: ['test/setup/fastcheck.ts'],
    // One migrated PGlite database dumped per run: each file loads it instead of running initdb.
    globalSetup: ['test/setup/pgliteTemplate.ts'],
    pool: 'forks',
    // Files share their worker processes (and the modules already loaded): importing Fastify, the
    // schemas and the service again in a fresh process for each of 145 files cost about 155 s of CPU
    // per run, a third of the phase's time on 2 cores. Safe because no test mocks modules, stubs
    // globals or fakes timers, the one that sets the environment (TZ, src/siem/epochMillis.test.ts)
    // restores it in a finally, and every file closes what it opens.
    isolate: false,
    // The files known to run longest start first, so none of them starts last (test/setup/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    // Four on two cores: the suites spend most of their time waiting (HTTPS receivers, timers, child
    // processes). Measured on 2 cores (2026-12-05): with three, the files' processes and their children
    // used 1,009 s of CPU in a 949 s phase (half the machine, PostgreSQL's share aside); with four, the
    // phase took 929 s where three took 1,080 s in a run as busy.
    maxWorkers: 4,
    // Ceilings, not expectations: a loaded 2-core machine can be several times slower than a quiet one,
    // and every wait in the tests returns as soon as its condition holds.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // expect.poll's own default ceiling is 1 s: a poll written without one would fail on a busy
    // machine while the condition is still on its way.
    expect: { poll: { timeout: 60_000, interval: 50 } },
  },
});
