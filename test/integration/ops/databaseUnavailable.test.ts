// A database that is out of resources (disk full, out of memory, too many connections, a configured
// limit reached) or in read-only mode (a failover, a managed service that went read-only on a full
// disk) refused the statement and wrote nothing: a retry later may succeed. The API answers these 503
// "Nothing was written" with Retry-After (api/errorHandler.ts), like a lost connection, not 500; the
// worker waits and retries. One rule for both: db/unavailable.ts.
import pg from 'pg';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../../src/db/unavailable.js';
import { installErrorHandler, REFUSAL_LOG_PERIOD_MS } from '../../../src/api/errorHandler.js';
import { TEST_DATABASE_URL } from '../../support/db.js';

// Per process: test runs sharing the server never drop each other's role.
const ROLE = `aegis_test_conn_limit_${process.pid}`;

/** The API's answer to a request whose handler met `err`. */
async function answerFor(err: unknown) {
  const app = Fastify();
  installErrorHandler(app);
  app.get('/x', async () => {
    throw err;
  });
  try {
    const res = await app.inject({ method: 'GET', url: '/x' });
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json<{ error: { message: string } }>() };
  } finally {
    await app.close();
  }
}

describe('too_many_connections (53300), provoked on PostgreSQL with a role of CONNECTION LIMIT 1', () => {
  let admin: pg.Client;
  let first: pg.Client;
  let refused: unknown;
  const roleUrl = () => {
    const u = new URL(TEST_DATABASE_URL);
    u.username = ROLE;
    return u.toString();
  };
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
    await admin.query(`CREATE ROLE ${ROLE} LOGIN CONNECTION LIMIT 1`);
    first = new pg.Client({ connectionString: roleUrl() });
    await first.connect();
    const second = new pg.Client({ connectionString: roleUrl() });
    second.on('error', () => undefined);
    refused = await second.connect().then(
      () => null,
      (err: unknown) => err,
    );
    await second.end().catch(() => undefined);
  });
  afterAll(async () => {
    await first?.end().catch(() => undefined);
    await admin?.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
    await admin?.end().catch(() => undefined);
  });

  it('is "database unavailable" and the API answers 503 Nothing was written with Retry-After', async () => {
    expect((refused as { code?: string } | null)?.code).toBe('53300');
    expect(isDatabaseUnavailable(refused)).toBe(true);
    const answer = await answerFor(refused);
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBeDefined();
    expect(answer.body.error.message).toContain('Nothing was written');
  });
});

describe('the other refusals that wrote nothing, as the servers raise them', () => {
  // Shapes of real errors: PGlite 0.5.16 on a full disk (a tmpfs filled to the last block) raised
  // exactly the first; the others are PostgreSQL's SQLSTATEs for the same class of refusal.
  const cases: [string, string][] = [
    ['53100', 'could not extend file "base/5/16384": No space left on device'],
    ['53000', 'could not open file "base/5/16384": Too many open files in system'],
    ['53200', 'out of memory'],
    ['53400', 'all replication slots are in use'],
    ['25006', 'cannot execute INSERT in a read-only transaction'],
  ];
  it.each(cases)('%s (%s) is database unavailable and answered 503 with Retry-After', async (code, message) => {
    const err = Object.assign(new Error(message), { code, severity: 'ERROR' });
    expect(isDatabaseUnavailable(err)).toBe(true);
    const answer = await answerFor(err);
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBeDefined();
  });

  it('leaves statement errors and a PGlite PANIC (its instance is broken until restarted) to 500', async () => {
    for (const code of ['23505', '42P01', 'XX000', '40P01']) expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code }))).toBe(false);
  });
});

describe('the log while the database keeps refusing', () => {
  it('is one warning per period, each saying how many refusals it stands for, not one per request', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    let clock = 1_000_000;
    const app = Fastify({ logger: { level: 'debug', stream } });
    installErrorHandler(app, () => clock);
    const diskFull = Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), { code: '53100' });
    const tooMany = Object.assign(new Error('sorry, too many clients already'), { code: '53300' });
    let next: Error = diskFull;
    app.get('/x', async () => {
      throw next;
    });
    const refusals = () => lines.filter((l) => String(l.msg).startsWith('database unavailable') && l.level === 40);
    try {
      for (let i = 0; i < 50; i++) expect((await app.inject({ method: 'GET', url: '/x' })).statusCode).toBe(503);
      expect(refusals()).toHaveLength(1);
      expect(refusals()[0]).toMatchObject({ code: '53100' });
      // The one an operator fixes by hand is said in words (an operator's review of a full disk).
      expect(refusals()[0]!.msg).toBe("database unavailable: the database's disk is full (SQLSTATE 53100); free space for it");
      expect(refusals()[0]).not.toHaveProperty('refused_since_last_line');
      // Another kind of refusal is its own news.
      next = tooMany;
      await app.inject({ method: 'GET', url: '/x' });
      expect(refusals().map((l) => l.code)).toEqual(['53100', '53300']);
      expect(refusals()[1]!.msg).toBe('database unavailable');
      next = diskFull;
      clock += REFUSAL_LOG_PERIOD_MS - 1;
      await app.inject({ method: 'GET', url: '/x' });
      expect(refusals()).toHaveLength(2);
      clock += 1;
      await app.inject({ method: 'GET', url: '/x' });
      expect(refusals()).toHaveLength(3);
      expect(refusals()[2]).toMatchObject({ code: '53100', refused_since_last_line: 50 });
    } finally {
      await app.close();
    }
  });
});
