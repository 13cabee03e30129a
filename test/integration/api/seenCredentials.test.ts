// The credential checks hold every stored key and live session as accepted (api/seenCredentials.ts):
// those stored before the start at once, those created since within a refresh, on both databases.
// A database that fails every load is said once a minute, and does not hold the start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCheckId, sessionCheckId } from '../../../src/api/auth.js';
import { checkLimits, CredentialChecks } from '../../../src/api/credentialChecks.js';
import { keepSeenCredentials } from '../../../src/api/seenCredentials.js';
import { createApiKey } from '../../../src/auth/apiKeys.js';
import { createSession } from '../../../src/auth/sessions.js';
import { createOrg } from '../../../src/orgs/repository.js';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { captureLogger } from '../../support/logCapture.js';

const POLL = { timeout: 60_000, interval: 20 };

describe.each(DB_KINDS)('the stored credentials, known to the API (%s)', (kind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await openTestDb(kind);
  });
  afterAll(async () => {
    await tdb?.close();
  });

  it('knows the keys and sessions stored before it started, and those created since', async () => {
    const org = await createOrg(tdb.db, 'stored');
    const before = await createApiKey(tdb.db, org.id);
    const session = await createSession(tdb.db, org.id);
    const checks = new CredentialChecks(checkLimits(100));
    const logs = captureLogger('debug');
    const seen = keepSeenCredentials(tdb.db, checks, logs.logger, 20);
    try {
      await seen.ready;
      expect(checks.knows(apiKeyCheckId(before))).toBe(true);
      expect(checks.knows(sessionCheckId(session.token))).toBe(true);
      expect(checks.knows(apiKeyCheckId('aeg_made_up_key_never_stored_0000000000000000'))).toBe(false);
      const later = await createApiKey(tdb.db, org.id);
      const laterSession = await createSession(tdb.db, org.id);
      await expect.poll(() => checks.knows(apiKeyCheckId(later)) && checks.knows(sessionCheckId(laterSession.token)), POLL).toBe(true);
      expect(logs.lines.filter((l) => l.includes('could not load'))).toEqual([]);
    } finally {
      seen.stop();
    }
  });

  it('says once that loads fail, and does not hold the start for them', async () => {
    let failed = 0;
    const away = new Proxy(tdb.db, {
      get(real, prop) {
        if (prop === 'query')
          return () => {
            failed++;
            return Promise.reject(new Error('connection refused'));
          };
        const v: unknown = Reflect.get(real, prop);
        return typeof v === 'function' ? v.bind(real) : v;
      },
    });
    const logs = captureLogger('debug');
    const started = performance.now();
    const seen = keepSeenCredentials(away, new CredentialChecks(checkLimits(100)), logs.logger, 10);
    try {
      await seen.ready;
      await expect.poll(() => failed, POLL).toBeGreaterThanOrEqual(20);
      const warnings = logs.lines.filter((l) => l.includes('could not load the stored API keys'));
      // Once a minute: one warning, unless the machine was so slow that the failures spanned minutes.
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(1 + Math.floor((performance.now() - started) / 60_000));
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, err: 'connection refused' });
    } finally {
      seen.stop();
    }
  });
});
