// Issue 12, pull API: GET /api/orgs/{org_id}/audit-events through the real service on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { makeEvent, seedEvents } from '../delivery/support.js';
import { agentRecord } from '../events/support.js';
import { recordEvents } from '../../../src/queue/enqueue.js';
import { createHmac, hkdfSync } from 'node:crypto';
import { parseKeyRing } from '../../../src/crypto/keyring.js';
import { MAX_CURSOR_LENGTH } from '../../../src/events/pullCursor.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { apiBodiesSchema, auditEventSchema, configChangeEventSchema } from '../../../src/events/validate.js';

// The published schema of the answer (schemas/api-bodies.schema.json#/$defs/AuditEventsPage), with the wire event's.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictTypes: false }));
ajv.addSchema(auditEventSchema);
ajv.addSchema(apiBodiesSchema);
ajv.addSchema(configChangeEventSchema);
const validPage = ajv.compile({ $ref: `${apiBodiesSchema.$id as string}#/$defs/AuditEventsPage` });

/**
 * A cursor in the first released form ("e1", given out until cursors were encrypted), minted here from
 * its frozen definition rather than by the code under test: base64url(HMAC-SHA-256 (first 16 bytes)
 * || "e1.<txid>.<event id>"), keyed by HKDF of the encryption key. Clients store cursors, so this form
 * must keep resuming at its position after an upgrade.
 */
function legacyE1Cursor(encryptionKey: string, orgId: string, pos: { txid: string; id: string }): string {
  const key = Buffer.from(hkdfSync('sha256', parseKeyRing(encryptionKey).primary.key, Buffer.alloc(0), 'aegis audit-events pull cursor v1', 32));
  const payload = `e1.${pos.txid}.${pos.id}`;
  const mac = createHmac('sha256', key).update(`${orgId}\n${payload}`).digest().subarray(0, 16);
  return Buffer.concat([mac, Buffer.from(payload, 'utf8')]).toString('base64url');
}

interface Page {
  events: Array<{ event: { id: string } }>;
  next_cursor: string;
  has_more: boolean;
}

describe.each(DB_KINDS)('pull API (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let receiver: Receiver;
  let org: { orgId: string; apiKey: string };
  const pullPath = (orgId = org.orgId) => `/api/orgs/${orgId}/audit-events`;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    receiver = await startReceiver();
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  async function page(query: string, who = org): Promise<Page> {
    const res = await svc.request('GET', `${pullPath(who.orgId)}?${query}`, { apiKey: who.apiKey });
    expect(res.status, res.text).toBe(200);
    return res.body as Page;
  }

  /** Reads from `cursor` until a page says there is no more; returns the event ids and the last cursor. */
  async function drain(cursor: string | null, limit: number, who = org): Promise<{ ids: string[]; cursor: string }> {
    const ids: string[] = [];
    for (;;) {
      const p = await page(`limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, who);
      ids.push(...p.events.map((e) => e.event.id));
      cursor = p.next_cursor;
      if (!p.has_more) return { ids, cursor };
    }
  }

  it('answers each event exactly as a webhook destination receives it', async () => {
    const o = await svc.newOrg();
    const d = await svc.request('POST', `/api/orgs/${o.orgId}/forwarding-destinations`, { apiKey: o.apiKey, body: { url: `${receiver.url}/pull-hook` } });
    expect(d.status, d.text).toBe(201);
    const pf = await svc.request('POST', `/api/orgs/${o.orgId}/preflight`, {
      apiKey: o.apiKey,
      body: { input: 'my SSN is 287-65-4321', actor_id: 'pull-test' },
    });
    expect(pf.status).toBe(200);
    const [delivered] = await receiver
      .waitFor((reqs) => reqs.some((r) => r.path === '/pull-hook'), 60_000)
      .then((reqs) => reqs.filter((r) => r.path === '/pull-hook'));
    // The pull API answers events below the oldest transaction still running anywhere in the
    // PostgreSQL cluster (src/events/pull.ts), and other suites' transactions run in the same cluster:
    // on a busy machine the decision shows a moment after its delivery. Waited for, not assumed.
    let res = await svc.request('GET', pullPath(o.orgId), { apiKey: o.apiKey });
    const datasets = () => (res.body.events as Array<{ event: { dataset: string } }>).map((e) => e.event.dataset);
    await expect
      .poll(
        async () => {
          res = await svc.request('GET', pullPath(o.orgId), { apiKey: o.apiKey });
          expect(res.status).toBe(200);
          return datasets();
        },
        { timeout: 60_000, interval: 250 },
      )
      // The destination's creation is on the configuration trail (docs/trail.md), then the decision.
      .toEqual(['aegis.audit_stream', 'aegis.preflight']);
    // Byte for byte: the same JSON text (field order included) as the webhook's body.
    expect(JSON.stringify(res.body.events[1])).toBe(delivered!.body.toString('utf8'));
    expect(res.text).not.toContain('287-65-4321');
    expect(res.body.has_more).toBe(false);
    expect(validPage(res.body), JSON.stringify(validPage.errors)).toBe(true);
  });

  // A page's events are their stored JSON texts, spliced into the answer as they are: parsed and
  // written again, a page of 1,000 large events held the API's thread for a fifth of a second.
  it('answers each event in its stored JSON text, byte for byte, whatever its spacing and key order', async () => {
    const o = await svc.newOrg();
    const pf = await svc.request('POST', `/api/orgs/${o.orgId}/preflight`, { apiKey: o.apiKey, body: { input: 'hello', actor_id: 'pull-text' } });
    expect(pf.status, pf.text).toBe(200);
    // The same event in another spelling of the same JSON: jsonb's (keys reordered, ": " and ", ").
    await tdb.db.query('UPDATE audit_events SET payload = (payload::jsonb)::json WHERE org_id = $1', [o.orgId]);
    const { rows } = await tdb.db.query<{ text: string }>('SELECT payload::text AS text FROM audit_events WHERE org_id = $1', [o.orgId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toContain('": "');
    let res = await svc.request('GET', pullPath(o.orgId), { apiKey: o.apiKey });
    await expect
      .poll(
        async () => {
          res = await svc.request('GET', pullPath(o.orgId), { apiKey: o.apiKey });
          return (res.body.events as unknown[]).length;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(1);
    expect(res.text.startsWith(`{"events":[${rows[0]!.text}],"next_cursor":`)).toBe(true);
    expect(validPage(res.body), JSON.stringify(validPage.errors)).toBe(true);
  });

  it('pages over many events while others are being recorded: every event exactly once, none twice', async () => {
    const seeded = await seedEvents(tdb.db, org.orgId, 400, 100);
    const written: string[] = [];
    let writing = true;
    const writer = (async () => {
      try {
        // Agents posting batches through the real API, concurrently with the reader below.
        for (let b = 0; b < 25; b++) {
          const res = await svc.request('POST', pullPath(), { apiKey: org.apiKey, body: { events: Array.from({ length: 8 }, () => agentRecord()) } });
          expect(res.status, res.text).toBe(200);
          written.push(...(res.body.preflight_ids as string[]));
        }
      } finally {
        writing = false;
      }
    })();
    const seen: string[] = [];
    let cursor: string | null = null;
    while (writing) {
      const r = await drain(cursor, 37);
      seen.push(...r.ids);
      cursor = r.cursor;
    }
    await writer;
    // After the last write has committed, reading on from the last cursor completes the set (once the
    // service's own background transactions, which hold back the page horizon a moment, have passed).
    await expect
      .poll(
        async () => {
          const r = await drain(cursor, 37);
          seen.push(...r.ids);
          cursor = r.cursor;
          return seen.length;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(seeded.length + written.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(seeded.length + written.length);
    expect(new Set(seen)).toEqual(new Set([...seeded, ...written]));
    // Nothing new: a poll with the final cursor answers an empty page and a cursor to keep polling with.
    await expect.poll(async () => (await drain(null, 1000)).ids.length, { timeout: 60_000 }).toBe(seen.length);
  });

  it.runIf(kind === 'postgres')('never skips an event whose transaction commits after a later one (out-of-order commits)', async () => {
    const o = await svc.newOrg();
    const { cursor } = await drain(null, 100, o);
    const early = makeEvent(o.orgId, 1);
    const late = makeEvent(o.orgId, 2);
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const insertedEarly = new Promise<void>((resolve) => (inserted = resolve));
    // `early` takes its transaction id first but commits last.
    const slowTx = tdb.db.transaction(async (tx) => {
      await recordEvents(tx, [{ orgId: o.orgId, id: early.event.id, occurredAt: new Date(), payload: early }]);
      inserted();
      await gate;
    });
    await insertedEarly;
    await recordEvents(tdb.db, [{ orgId: o.orgId, id: late.event.id, occurredAt: new Date(), payload: late }]);
    // `late` is committed, but handing it out now would move the cursor past `early`.
    const during = await drain(cursor, 100, o);
    expect(during.ids).toEqual([]);
    commit();
    await slowTx;
    await expect.poll(async () => (await drain(during.cursor, 100, o)).ids, { timeout: 60_000 }).toEqual([early.event.id, late.event.id]);
  });

  it('orders by the transaction number, not its text (9 before 10), so a cursor never passes over an event', async () => {
    // Regression: the position was once sorted as text ('10' < '9'), and the cursor then skipped 9.
    const o = await svc.newOrg();
    const [a, b] = [makeEvent(o.orgId, 1), makeEvent(o.orgId, 2)];
    await tdb.db.query(`INSERT INTO audit_events (org_id, id, occurred_at, payload, txid) VALUES ($1, $2, now(), $3::json, 10), ($1, $4, now(), $5::json, 9)`, [
      o.orgId,
      a.event.id,
      JSON.stringify(a),
      b.event.id,
      JSON.stringify(b),
    ]);
    const first = await page('limit=1', o);
    expect(first.events.map((e) => e.event.id)).toEqual([b.event.id]);
    expect((await drain(first.next_cursor, 1, o)).ids).toEqual([a.event.id]);
  });

  it('filters by @timestamp with since and until', async () => {
    const o = await svc.newOrg();
    const at = (iso: string) => agentRecord({ occurred_at: iso });
    const res = await svc.request('POST', pullPath(o.orgId), {
      apiKey: o.apiKey,
      body: { events: [at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), at('2026-01-03T00:00:00Z')] },
    });
    expect(res.status, res.text).toBe(200);
    const ids = res.body.preflight_ids as string[];
    // Pages stop below the oldest transaction still open (pg_snapshot_xmin), and the service's own
    // background loops briefly hold one: the batch shows once that horizon has passed it.
    const window = `since=${encodeURIComponent('2026-01-02T00:00:00Z')}&until=${encodeURIComponent('2026-01-03T00:00:00+00:00')}`;
    await expect.poll(async () => (await page(window, o)).events.map((e) => e.event.id), { timeout: 60_000 }).toEqual([ids[1]]);
    // One batch is one transaction: its events come in event id order, not batch order.
    expect((await page('since=2026-01-01T12:00:00Z', o)).events.map((e) => e.event.id).sort()).toEqual([ids[1], ids[2]].sort());
  });

  it('a window that matches nothing still moves the cursor: each request examines a bounded number of events', async () => {
    const o = await svc.newOrg();
    const records = Array.from({ length: 25 }, (_, i) => agentRecord({ occurred_at: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` }));
    expect((await svc.request('POST', pullPath(o.orgId), { apiKey: o.apiKey, body: { events: records } })).status).toBe(200);
    // Pages end below the oldest transaction still open (pg_snapshot_xmin): wait until the batch is
    // past it (the service's own background transactions may hold it back a moment), so what follows
    // measures the bounded scan, not a page that is "caught up" for now.
    await expect.poll(async () => (await page('limit=100', o)).events.length, { timeout: 60_000 }).toBe(25);
    // limit=1 with a window in the future: a request examines at most PULL_SCAN_PER_PAGE (10) events.
    const since = `since=${encodeURIComponent('2027-01-01T00:00:00Z')}`;
    const cursors: string[] = [];
    let p = await page(`limit=1&${since}`, o);
    for (;;) {
      expect(p.events).toEqual([]);
      cursors.push(p.next_cursor);
      if (!p.has_more) break;
      p = await page(`limit=1&${since}&cursor=${p.next_cursor}`, o);
    }
    // 25 events, 10 examined per request: three requests, each ending further on, then caught up.
    expect(cursors).toHaveLength(3);
    expect(new Set(cursors).size).toBe(3);
    // The same cursor without the window reads on from there: the first 20 were examined and passed over.
    const rest = await page(`limit=100&cursor=${cursors[1]}`, o);
    expect(rest.events).toHaveLength(5);
  });

  it('refuses bad parameters and any cursor it did not give out for this organization, naming the parameter', async () => {
    const refused = async (query: string, who = org) => {
      const res = await svc.request('GET', `${pullPath(who.orgId)}?${query}`, { apiKey: who.apiKey });
      expect(res.status, query).toBe(400);
      return res.body.error.message as string;
    };
    for (const limit of ['0', '1001', 'ten', '-1', '1.5']) expect(await refused(`limit=${limit}`)).toMatch(/limit/);
    expect(await refused('since=yesterday')).toMatch(/since/);
    expect(await refused('until=2026-02-30T00:00:00')).toMatch(/until/);
    expect(await refused('since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z')).toMatch(/until/);
    expect(await refused('after=1')).toMatch(/after/);

    const good = (await page('limit=1')).next_cursor;
    expect((await page(`limit=1&cursor=${good}`)).events).toHaveLength(1);
    const raw = Buffer.from(good, 'base64url');
    // Every single-byte change is caught (the position is authenticated), as is truncation and garbage.
    const tampered = [1, raw.length - 3, raw.length - 1].map((i) => {
      const copy = Buffer.from(raw);
      copy[i] = copy[i]! ^ 0x01;
      return copy.toString('base64url');
    });
    tampered.push(raw.subarray(0, raw.length - 1).toString('base64url'), 'AAAA', Buffer.from('e1.0.').toString('base64url'), 'x'.repeat(401));
    for (const c of tampered) expect(await refused(`cursor=${c}`)).toMatch(/cursor/);
    // A cursor is bound to its organization: another org's key cannot use this org's cursor on its own path.
    const other = await svc.newOrg();
    expect(await refused(`cursor=${good}`, other)).toMatch(/cursor/);
  });

  it("reveals nothing in its cursors: no transaction ids (other tenants' activity), no event ids; e1 cursors still resume", async () => {
    const a = await svc.newOrg();
    const b = await svc.newOrg();
    const first = await seedEvents(tdb.db, a.orgId, 2);
    // Pages end below the oldest open transaction (the service's own background loops hold one a moment).
    let c1 = '';
    await expect
      .poll(
        async () => {
          const r = await drain(null, 100, a);
          c1 = r.cursor;
          return r.ids.sort();
        },
        { timeout: 60_000 },
      )
      .toEqual([...first].sort());
    // Between A's two pulls, B writes: each destination created is its own transaction on the server.
    const N = 20;
    for (let i = 0; i < N; i++) {
      const d = await svc.request('POST', `/api/orgs/${b.orgId}/forwarding-destinations`, { apiKey: b.apiKey, body: { url: `${receiver.url}/leak-${i}` } });
      expect(d.status, d.text).toBe(201);
    }
    const [third] = await seedEvents(tdb.db, a.orgId, 1);
    let c2 = c1;
    await expect
      .poll(
        async () => {
          const r = await drain(c2, 100, a);
          c2 = r.cursor;
          return r.ids;
        },
        { timeout: 60_000 },
      )
      .toEqual([third]);
    // Caught up: another read from c2 answers a cursor for the very same position.
    const c3 = (await page(`limit=100&cursor=${c2}`, a)).next_cursor;
    const { rows } = await tdb.db.query<{ txid: string; id: string }>(`SELECT txid::text AS txid, id FROM audit_events WHERE org_id = $1 ORDER BY txid, id`, [
      a.orgId,
    ]);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining([...first, third!]));
    for (const c of [c1, c2, c3]) {
      expect(c.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
      // Form byte, then the sealed box: version, key id length, key id (in clear, by design: which key
      // opens it, random hex that may well spell "e1." or a txid's digits), then nonce, ciphertext and
      // tag, the only part that could leak the position.
      const cursor = Buffer.from(c, 'base64url');
      expect(cursor[0]).toBe(0x02); // form e2, whose layout the next line reads
      const bytes = cursor.subarray(3 + cursor[2]!);
      const text = bytes.toString('latin1');
      expect(text).not.toMatch(/e1\./);
      for (const r of rows) {
        // Neither the position's transaction id (as text, or as a 64-bit integer) nor its event id.
        expect(text).not.toContain(r.txid);
        const be = Buffer.alloc(8);
        be.writeBigInt64BE(BigInt(r.txid));
        expect(bytes.includes(be.subarray(4))).toBe(false);
        expect(text).not.toContain(r.id);
        expect(text).not.toContain(r.id.slice(5));
      }
    }
    // Two cursors for one position differ (a fresh nonce each), and both resume at it.
    expect(c3).not.toBe(c2);
    // The cursor's length does not move with the server's transaction counter.
    expect(c2.length).toBe(c1.length);
    const [fourth] = await seedEvents(tdb.db, a.orgId, 1);
    await expect.poll(async () => (await drain(c2, 100, a)).ids, { timeout: 60_000 }).toEqual([fourth]);
    expect((await drain(c3, 100, a)).ids).toEqual([fourth]);

    // A cursor given out before the upgrade (form e1) resumes where it stood, and is answered with the new form.
    const key = svc.config.encryptionKey!;
    const old = legacyE1Cursor(key, a.orgId, rows[0]!);
    // Polled as every drain above: a page ends below the oldest transaction open on the server, and
    // on a busy machine (other suites' databases on the same server) one can be open a moment.
    let resumed = { ids: [] as string[], cursor: '' };
    await expect
      .poll(
        async () => {
          resumed = await drain(old, 100, a);
          return resumed.ids;
        },
        { timeout: 60_000 },
      )
      .toEqual([...rows.slice(1).map((r) => r.id), fourth]);
    expect(Buffer.from(resumed.cursor, 'base64url').toString('latin1')).not.toMatch(/e1\./);
    const start = await page(`limit=1&cursor=${legacyE1Cursor(key, a.orgId, { txid: '0', id: '' })}`, a);
    expect(start.events.map((e) => e.event.id)).toEqual([rows[0]!.id]);
    // ...bound to its organization as before.
    const refusedOld = await svc.request('GET', `${pullPath(b.orgId)}?cursor=${old}`, { apiKey: b.apiKey });
    expect(refusedOld.status).toBe(400);
    expect(refusedOld.body.error.message).toMatch(/^cursor: /);
  });

  it("keeps organizations apart: a key of one org never reads another's events", async () => {
    const a = await svc.newOrg();
    const b = await svc.newOrg();
    const aIds = await seedEvents(tdb.db, a.orgId, 3);
    const bIds = await seedEvents(tdb.db, b.orgId, 2);
    // Pages end below the oldest open transaction (the service's own background loops hold one a moment).
    await expect.poll(async () => (await drain(null, 100, a)).ids.sort(), { timeout: 60_000 }).toEqual([...aIds].sort());
    await expect.poll(async () => (await drain(null, 100, b)).ids.sort(), { timeout: 60_000 }).toEqual([...bIds].sort());
    // B's key on A's path: 404, as if A did not exist; no key: 401.
    const cross = await svc.request('GET', pullPath(a.orgId), { apiKey: b.apiKey });
    expect(cross.status).toBe(404);
    for (const id of aIds) expect(cross.text).not.toContain(id);
    expect((await svc.request('GET', pullPath(a.orgId))).status).toBe(401);
  });

  it('is described in /openapi.json: parameters, answer fields, and the replay window', async () => {
    const doc = (await svc.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, any>> };
    const get = doc.paths['/api/orgs/{org_id}/audit-events']!.get;
    const params = (get.parameters as Array<{ name: string; in: string }>).filter((x) => x.in === 'query').map((x) => x.name);
    expect(params.sort()).toEqual(['cursor', 'limit', 'since', 'until']);
    const answer = get.responses['200'].content['application/json'].schema;
    expect(Object.keys(answer.properties).sort()).toEqual(['events', 'has_more', 'next_cursor']);
    const replay = doc.paths['/api/orgs/{org_id}/forwarding-destinations/{destination_id}/replay']!.post;
    expect(Object.keys(replay.requestBody.content['application/json'].schema.properties).sort()).toEqual(['from', 'job_ids', 'to']);
    expect(Object.keys(replay.responses['200'].content['application/json'].schema.properties).sort()).toEqual([
      'message',
      'replayed',
      'skipped_too_far_ahead',
      'skipped_too_old',
    ]);
  });
});
