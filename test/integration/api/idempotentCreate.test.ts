// Regression (an API client's review): a client that retried a create whose answer it lost (a timeout)
// made a second destination, and every event was then delivered to its SIEM twice. With an
// Idempotency-Key, the retry answers the destination its first try made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { POLL } from '../../support/waitFor.js';

describe.each(DB_KINDS)('creating a destination with an Idempotency-Key (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_MAX_DESTINATIONS_PER_ORG: '2' });
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const create = (org: { orgId: string; apiKey: string }, body: Record<string, unknown>, key?: string) =>
    svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey, body, headers: key ? { 'idempotency-key': key } : {} });
  const destinations = async (orgId: string) =>
    (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM destinations WHERE org_id = $1 AND deleted_at IS NULL', [orgId])).rows[0]!.n;
  const trailCreates = async (org: { orgId: string; apiKey: string }) =>
    (await svc.request('GET', `/api/orgs/${org.orgId}/activity`, { apiKey: org.apiKey })).body.activity.filter(
      (e: { action: string }) => e.action === 'destination_created',
    ).length;
  const newOrg = () => svc.newOrg();

  it('a retry answers the destination the first try made, its signing secret included; nothing is made twice', async () => {
    const org = await newOrg();
    const body = { url: 'https://siem.example/in', auth_header_value: 'Bearer first-token-1', signing: true, name: 'Primary' };
    const first = await create(org, body, 'create-primary-1');
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.body.signing_secret).toMatch(/^whsec_/);
    const again = await create(org, body, 'create-primary-1');
    expect(again.status, again.text).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.destination_id).toBe(first.body.destination_id);
    // The client never saw the first answer: the secret comes again.
    expect(again.body.signing_secret).toBe(first.body.signing_secret);
    expect(await destinations(org.orgId)).toBe(1);
    expect(await trailCreates(org)).toBe(1);
    // At the cap (2 here) a retry still answers the destination made; a new create is refused.
    expect((await create(org, { url: 'https://siem.example/other' })).status).toBe(201);
    expect((await create(org, body, 'create-primary-1')).body.destination_id).toBe(first.body.destination_id);
    const capped = await create(org, { url: 'https://siem.example/third' }, 'create-third');
    expect(capped.status).toBe(409);
    expect(capped.body.error.code).toBe('limit_reached');
  });

  it('the same key with other settings is refused; another key, no key or another organization creates anew', async () => {
    const org = await newOrg();
    const body = { url: 'https://siem.example/in', auth_header_value: 'Bearer token-a' };
    const first = await create(org, body, 'key-a');
    expect(first.status).toBe(201);
    const other = await create(org, { ...body, url: 'https://siem.example/elsewhere' }, 'key-a');
    expect(other.status, other.text).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    expect(other.body.error.message).toContain('Idempotency-Key');
    expect(await destinations(org.orgId)).toBe(1);
    // A retry that differs only in its secret is the same request (no digest of a secret is kept).
    expect((await create(org, { ...body, auth_header_value: 'Bearer token-b' }, 'key-a')).body.destination_id).toBe(first.body.destination_id);
    const elsewhere = await newOrg();
    const theirs = await create(elsewhere, body, 'key-a');
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    // Deleted, the key is free again: a retry after a delete creates anew.
    expect((await svc.request('DELETE', `/api/orgs/${org.orgId}/forwarding-destinations/${first.body.destination_id}`, { apiKey: org.apiKey })).status).toBe(
      200,
    );
    const after = await create(org, body, 'key-a');
    expect(after.status).toBe(201);
    expect(after.body.destination_id).not.toBe(first.body.destination_id);
  });

  it('tries at once make one destination', async () => {
    const org = await newOrg();
    const body = { url: 'https://siem.example/race' };
    let answers: Awaited<ReturnType<typeof create>>[];
    if (kind === 'postgres') {
      // Made to race: the organization's row is held until all three wait on it, then let go at once.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holder: number | null = null;
      const holding = tdb.db.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE', [org.orgId]);
        holder = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await held;
      });
      try {
        await expect.poll(() => holder, POLL).not.toBeNull();
        const pending = Promise.all([create(org, body, 'race-1'), create(org, body, 'race-1'), create(org, body, 'race-1')]);
        // Waiting on the holder, or on a waiter ahead of them in the row lock's queue (PostgreSQL reports
        // the later ones blocked by the first, not by the holder).
        const waiting = async () =>
          (
            await tdb.db.query<{ n: number }>(
              `WITH RECURSIVE chain(pid) AS (SELECT $1::int UNION SELECT a.pid FROM pg_stat_activity a, chain c WHERE c.pid = ANY(pg_blocking_pids(a.pid)))
               SELECT (count(*) - 1)::int AS n FROM chain`,
              [holder],
            )
          ).rows[0]!.n;
        await expect.poll(waiting, POLL).toBe(3);
        release();
        answers = await pending;
      } finally {
        release();
        await holding;
      }
    } else {
      // One connection: the embedded database serves them in turn, each seeing the one before.
      answers = await Promise.all([create(org, body, 'race-1'), create(org, body, 'race-1'), create(org, body, 'race-1')]);
    }
    for (const a of answers) expect(a.status, a.text).toBe(201);
    expect(new Set(answers.map((a) => a.body.destination_id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
    expect(await destinations(org.orgId)).toBe(1);
  });
});
