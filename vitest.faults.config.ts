import { defineConfig } from 'vitest/config';

// Fault-injection suite (`npm run test:faults`): real worker processes killed and restarted, database
// connections cut, misbehaving SIEMs, API fuzzing. Heavy, so files run one or two at a time with
// generous timeouts; the whole suite is kept under about five minutes on 2 cores.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
