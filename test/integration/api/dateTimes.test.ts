// Every date-time the API takes (occurred_at, the pull API's and the delivery log's since/until, a
// range replay's from/to) goes through one parser (parseDateTime, src/events/contract.ts): RFC 3339
// only, a leap second read the same way everywhere, and an instant from 1970 to 9999 (UTC). A value
// the database could not store or compare is a 400 naming the field, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { POLL } from '../../support/waitFor.js';
import { agentRecord, countRows } from '../events/support.js';

// JavaScript reads these years; PostgreSQL has no year 0 and timestamptz text stops at 4 digits, and
// a negative Unix time is no time an audit event can have (SIEM formats carry epoch times).
const BEFORE_RANGE = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+14:00', // 0000-12-31T10:00Z in UTC
  '1969-12-31T23:59:59.999Z',
  '1970-01-01T00:30:00+01:00', // 1969-12-31T23:30Z in UTC
];
const AFTER_RANGE = ['9999-12-31T23:59:59-01:00']; // 10000-01-01T00:59:59Z in UTC
// Pass the schema's "date-time" format (ajv-formats) but are not RFC 3339: refused everywhere alike.
const NOT_RFC3339 = ['2026-11-30T10:00:00+0530', '2026-11-30T10:00:00+05', '2026-11-30T10:00:00-0800'];
// A leap second (RFC 3339 allows ":60" at 23:59 UTC): read as the last millisecond of the minute.
const LEAP = '2026-11-30T23:59:60Z';

describe.each(DB_KINDS)('date-times the API takes (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  let destinationId: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // No worker: nothing here is about delivery, and nothing is ever sent to the destination below.
    svc = await startTestService(tdb.db, {}, 'api');
    org = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { url: 'https://127.0.0.1:9/never-called' },
    });
    expect(created.status, created.text).toBe(201);
    destinationId = created.body.destination_id as string;
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const get = (path: string) => svc.request('GET', path, { apiKey: org.apiKey });
  const pull = (query: string) => get(`/api/orgs/${org.orgId}/audit-events?${query}`);
  const attempts = (query: string) => get(`/api/orgs/${org.orgId}/forwarding-destinations/${destinationId}/attempts?${query}`);
  const replay = (body: unknown) => svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations/${destinationId}/replay`, { apiKey: org.apiKey, body });
  const postRecords = (occurredAt: string, o = org) =>
    svc.request('POST', `/api/orgs/${o.orgId}/audit-events`, { apiKey: o.apiKey, body: { events: [agentRecord(), agentRecord({ occurred_at: occurredAt })] } });

  /** The ids of the events a pull of `o`'s stream answers for `query`. */
  async function pulledIds(o: { orgId: string; apiKey: string }, query: string): Promise<string[]> {
    const page = await svc.request('GET', `/api/orgs/${o.orgId}/audit-events?${query}`, { apiKey: o.apiKey });
    expect(page.status, page.text).toBe(200);
    return (page.body.events as Array<{ event: { id: string } }>).map((e) => e.event.id);
  }

  /** A 400 naming `field`, without the value that was refused. */
  function expectRefused(res: { status: number; text: string; body: any }, field: string, value: string): void {
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message.startsWith(`${field}: `) || res.body.error.message.includes(field), res.text).toBe(true);
    expect(res.text).not.toContain(value);
  }

  describe('POST /audit-events occurred_at', () => {
    it.each([...BEFORE_RANGE, ...AFTER_RANGE, ...NOT_RFC3339])('refuses the batch, naming the record and field: %s', async (value) => {
      const o = await svc.newOrg();
      const res = await postRecords(value, o);
      expectRefused(res, 'events[1].occurred_at', value);
      expect(res.body.error.details).toEqual([{ path: '/events/1/occurred_at', message: expect.any(String) }]);
      expect(await countRows(tdb.db, 'audit_events', o.orgId)).toBe(0);
    });

    it('records the first and last instants of the range as given', async () => {
      const o = await svc.newOrg();
      for (const [given, stored] of [
        ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000000+00:00'],
        ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999000+00:00'],
        ['9999-12-31T23:59:60Z', '9999-12-31T23:59:59.999000+00:00'],
      ] as const) {
        const res = await postRecords(given, o);
        expect(res.status, res.text).toBe(200);
        const { rows } = await tdb.db.query<{ t: string }>(`SELECT payload->>'@timestamp' AS t FROM audit_events WHERE org_id = $1 AND id = $2`, [
          o.orgId,
          res.body.preflight_ids[1],
        ]);
        expect(rows[0]?.t).toBe(stored);
      }
    });
  });

  describe('GET /audit-events since and until', () => {
    it.each([...BEFORE_RANGE, ...AFTER_RANGE, ...NOT_RFC3339])('answers 400 naming the field: %s', async (value) => {
      expectRefused(await pull(`since=${encodeURIComponent(value)}`), 'since', value);
      expectRefused(await pull(`until=${encodeURIComponent(value)}`), 'until', value);
    });

    // The schema's format check refused these first, with its bare 'must match format "date-time"'.
    it.each(['2026-01-01T00:00:00', '2026-02-30T00:00:00Z', '12026-01-01T00:00:00Z', 'yesterday'])(
      'says what a date-time is, whichever check refuses it: %s',
      async (value) => {
        for (const field of ['since', 'until']) {
          const res = await pull(`${field}=${encodeURIComponent(value)}`);
          expect(res.status, res.text).toBe(400);
          expect(res.body.error.message).toBe(`${field}: is not an RFC 3339 date-time (e.g. 2026-11-30T10:00:00Z)`);
        }
      },
    );

    it('reads a leap second as the recorded event does: since includes the event, until excludes it', async () => {
      const o = await svc.newOrg();
      const res = await postRecords(LEAP, o);
      expect(res.status, res.text).toBe(200);
      const leapId = res.body.preflight_ids[1] as string;
      const ids = (query: string) => pulledIds(o, query);
      // The pull API answers an event once no older transaction is running (src/events/pull.ts): waited for.
      // (The batch's other record is stamped with the time it was received, after the window.)
      await expect.poll(() => ids(`since=${encodeURIComponent(LEAP)}&until=2026-12-01T00:00:00Z`), POLL).toEqual([leapId]);
      expect(await ids(`since=2026-11-30T23:59:59Z&until=${encodeURIComponent(LEAP)}`)).toEqual([]);
    });
  });

  describe('GET .../attempts since and until', () => {
    it.each([...BEFORE_RANGE, ...AFTER_RANGE, ...NOT_RFC3339])('answers 400 naming the field: %s', async (value) => {
      expectRefused(await attempts(`since=${encodeURIComponent(value)}`), 'since', value);
      expectRefused(await attempts(`until=${encodeURIComponent(value)}`), 'until', value);
    });

    // It answered an empty page, where the pull API names the mistake (an attacker review).
    it('answers 400 for an until before since, as the pull API does', async () => {
      for (const list of [attempts, pull]) {
        const res = await list('since=2026-12-06T00:00:00Z&until=2026-12-05T00:00:00Z');
        expect(res.status, res.text).toBe(400);
        expect(res.body.error.message).toMatch(/until.*is before since/);
      }
    });

    it('takes a leap second', async () => {
      for (const q of [`since=${encodeURIComponent(LEAP)}`, `until=${encodeURIComponent(LEAP)}`]) {
        const res = await attempts(q);
        expect(res.status, res.text).toBe(200);
        expect(res.body.attempts).toEqual([]);
      }
    });
  });

  // Digits past the millisecond were dropped: a since of .123001 took an event of .123, and an until or
  // a replay's to of .123999 left it out (a review of the read paths).
  it('bounds @timestamp to the microsecond: since and from take an event at or after them, until and to before them', async () => {
    const o = await svc.newOrg();
    const created = await svc.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations`, {
      apiKey: o.apiKey,
      body: { url: 'https://127.0.0.1:9/never-called', enabled: false },
    });
    expect(created.status, created.text).toBe(201);
    // An hour ago, at .123 of its second: inside any retention, and whole milliseconds as @timestamp holds.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 123).toISOString();
    const t = (fraction: string) => encodeURIComponent(at.replace('.123Z', `.${fraction}Z`));
    const res = await postRecords(at, o);
    expect(res.status, res.text).toBe(200);
    const id = res.body.preflight_ids[1] as string;
    const ids = (query: string) => pulledIds(o, query);
    await expect.poll(() => ids(`since=${t('123')}&until=${t('124')}`), POLL).toEqual([id]);
    expect(await ids(`since=${t('123000')}&until=${t('123001')}`)).toEqual([id]);
    expect(await ids(`since=${t('122999')}&until=${t('123999')}`)).toEqual([id]);
    expect(await ids(`since=${t('123001')}&until=${t('124')}`)).toEqual([]);
    expect(await ids(`since=${t('122')}&until=${t('123')}`)).toEqual([]);
    expect(await ids(`since=${t('123001')}&until=${t('123999')}`)).toEqual([]);
    // Ordered to the microsecond, though both fall in one millisecond.
    const reversed = await svc.request('GET', `/api/orgs/${o.orgId}/audit-events?since=${t('123500')}&until=${t('123001')}`, { apiKey: o.apiKey });
    expect(reversed.status, reversed.text).toBe(400);
    expect(reversed.body.error.message).toMatch(/until.*is before since/);

    const replayed = async (from: string, to: string) => {
      const r = await svc.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations/${created.body.destination_id}/replay`, {
        apiKey: o.apiKey,
        body: { from: decodeURIComponent(t(from)), to: decodeURIComponent(t(to)) },
      });
      expect(r.status, r.text).toBe(200);
      return r.body.replayed as number;
    };
    expect(await replayed('123001', '124')).toBe(0);
    expect(await replayed('122', '123')).toBe(0);
    expect(await replayed('122500', '123500')).toBe(1);
  });

  // The delivery log's times are the database's now(), to the microsecond: its bounds are read whole
  // (rounded up as @timestamp's are, a since of .123001 left out an attempt at .1235: an attacker read).
  it('bounds the delivery log to the microsecond its times hold', async () => {
    await tdb.db.query(
      `INSERT INTO delivery_attempts (org_id, destination_id, attempted_at, event_count, delivered_count, failed_count, duration_ms)
       VALUES ($1, $2, '2026-01-01T00:00:00.123500Z', 1, 1, 0, 5)`,
      [org.orgId, destinationId],
    );
    const count = async (query: string) => {
      const res = await attempts(query);
      expect(res.status, res.text).toBe(200);
      return (res.body.attempts as unknown[]).length;
    };
    expect(await count('since=2026-01-01T00:00:00.123001Z&until=2026-01-01T00:00:01Z')).toBe(1);
    expect(await count('since=2026-01-01T00:00:00.123001Z&until=2026-01-01T00:00:00.123999Z')).toBe(1);
    expect(await count('since=2026-01-01T00:00:00.123500Z&until=2026-01-01T00:00:00.123501Z')).toBe(1);
    expect(await count('since=2026-01-01T00:00:00.123501Z&until=2026-01-01T00:00:01Z')).toBe(0);
    expect(await count('since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00.123400Z')).toBe(0);
    expect(await count('since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00.123500Z')).toBe(0);
  });

  // Rounded up past the range's last millisecond, a bound was a year-10000 date no query takes: a 500.
  it('takes a bound inside the last millisecond of the range', async () => {
    const last = '9999-12-31T23:59:59.999999Z';
    expect((await pull(`until=${last}`)).status).toBe(200);
    expect((await pull(`since=${last}`)).status).toBe(200);
    expect((await attempts(`until=${last}`)).status).toBe(200);
    const res = await replay({ from: '2026-11-30T00:00:00Z', to: last });
    expect(res.status, res.text).toBe(200);
  });

  describe('POST .../replay from and to', () => {
    it.each([...BEFORE_RANGE, ...AFTER_RANGE, ...NOT_RFC3339])('answers 400 naming the field: %s', async (value) => {
      expectRefused(await replay({ from: value, to: '2026-11-30T00:00:00Z' }), 'from', value);
      expectRefused(await replay({ from: '2026-11-30T00:00:00Z', to: value }), 'to', value);
    });

    it('takes a leap second, as occurred_at and the pull API do', async () => {
      const res = await replay({ from: '2026-11-30T23:00:00Z', to: LEAP });
      expect(res.status, res.text).toBe(200);
      expect(res.body.replayed).toBe(0);
    });
  });
});
