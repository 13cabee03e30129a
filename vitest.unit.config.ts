import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:unit`: the fast loop. Only the tests beside the code in src/: none of them opens a
// database (PGlite or PostgreSQL) and, but for the one excluded below, none starts a process, so the
// loop needs nothing running. Same pool and ceilings as the full run; `npm test` still runs everything.
export default defineConfig({
  test: {
    ...base.test,
    include: ['src/**/*.test.ts'],
    // No database here: no PGlite template to prepare.
    globalSetup: [],
    exclude: [
      'node_modules/**',
      'dist/**',
      // Starts a Node process per case: NODE_EXTRA_CA_CERTS is only read at process start.
      'src/delivery/outbound/extraCa.test.ts',
    ],
  },
});
