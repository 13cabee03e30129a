import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, startReceiver, type Receiver, type ReceivedRequest } from '../../support/httpsReceiver.js';
import { VERSION } from '../../../src/version.js';
import { deliveryLog, eventIdsOf, jobRows, seedEvents } from './support.js';

// Each SIEM preset's request, exactly as a real HTTPS receiver on loopback gets it.
describe.each(DB_KINDS)('SIEM presets on the wire (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.close();
    await tdb?.close();
  });

  async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(handler);
    receivers.push(r);
    return r;
  }

  // JSON bodies in tests.
  type Json = any;
  /** Creates one destination (the only enabled one: earlier ones are disabled) and returns its id. */
  async function destination(body: Record<string, unknown>): Promise<{ id: string; body: Record<string, Json> }> {
    const list = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations`, { apiKey: org.apiKey });
    for (const d of list.body.destinations ?? list.body) {
      if (d.enabled)
        await svc.request('PATCH', `/api/orgs/${org.orgId}/forwarding-destinations/${d.destination_id}`, { apiKey: org.apiKey, body: { enabled: false } });
    }
    // Decisions only: these tests read the first request's events, and the destination's own
    // destination_created trail event (docs/trail.md) may share a batch with them.
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
      apiKey: org.apiKey,
      body: { filter: DECISIONS_ONLY, ...body },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.destination_id, body: res.body };
  }

  function commonChecks(req: ReceivedRequest, gzip: boolean) {
    expect(req.method).toBe('POST');
    expect(req.headers['user-agent']).toContain(VERSION);
    expect(req.headers['user-agent']).toMatch(/Aegis/i);
    if (gzip) {
      expect(req.headers['content-encoding']).toBe('gzip');
      expect(req.rawBody.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    } else {
      expect(req.headers['content-encoding']).toBeUndefined();
    }
  }

  it('Splunk HEC: several envelopes concatenated in one gzip request, Authorization: Splunk <token>', async () => {
    const r = await receiver();
    const token = '5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';
    await destination({
      siem: 'splunk_hec',
      url: `${r.url}/services/collector/event`,
      auth_header_name: 'Authorization',
      auth_header_value: `Splunk ${token}`,
      options: { index: 'aegis' },
    });
    const ids = await seedEvents(tdb.db, org.orgId, 5);
    await r.waitFor((reqs) => new Set(reqs.flatMap(eventIdsOf)).size >= 5, 60_000);
    const req = r.requests[0]!;
    commonChecks(req, true);
    expect(req.path).toBe('/services/collector/event');
    expect(req.headers.authorization).toBe(`Splunk ${token}`);
    const text = req.body.toString('utf8');
    expect(text.trimStart().startsWith('[')).toBe(false);
    // Concatenated objects, no array and no commas between them: split on the }{ boundaries.
    const envelopes = text
      .replace(/}\s*{"time"/g, '}\n{"time"')
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, Json>);
    expect(envelopes.length).toBe(eventIdsOf(req).length);
    expect(r.requests.some((q) => eventIdsOf(q).length > 1)).toBe(true);
    for (const env of envelopes) {
      expect(env).toMatchObject({ source: 'aegis', sourcetype: 'aegis:audit', index: 'aegis' });
      expect(typeof env.time).toBe('number');
      expect(Math.abs(env.time * 1000 - Date.parse(env.event['@timestamp']))).toBeLessThan(1);
      expect(ids).toContain(env.event.event.id);
    }
  });

  it('Datadog: a JSON array of log items with ddsource, service, ddtags, hostname, message, timestamp and DD-API-KEY', async () => {
    const r = await receiver(() => ({ status: 202, body: '{}' }));
    await destination({ siem: 'datadog', url: `${r.url}/api/v2/logs`, auth_header_name: 'DD-API-KEY', auth_header_value: 'dd-key-0123456789abcdef' });
    const ids = await seedEvents(tdb.db, org.orgId, 4);
    await r.waitFor((reqs) => new Set(reqs.flatMap(eventIdsOf)).size >= 4, 60_000);
    const req = r.requests[0]!;
    commonChecks(req, true);
    expect(req.headers['dd-api-key']).toBe('dd-key-0123456789abcdef');
    expect(req.headers['content-type']).toContain('application/json');
    const items = JSON.parse(req.body.toString('utf8'));
    expect(Array.isArray(items)).toBe(true);
    for (const it of items) {
      expect(it.ddsource).toBe('aegis');
      expect(it.service).toBe('aegis-audit-stream');
      expect(it.ddtags).toContain(`org_id:${org.orgId}`);
      expect(it.ddtags).toContain('dataset:aegis.preflight');
      expect(typeof it.hostname).toBe('string');
      expect(it.message).toBe(it.aegis.summary);
      // Datadog dates a log by timestamp (epoch ms), never by @timestamp: without it, by arrival.
      expect(it.timestamp).toBe(Date.parse(it['@timestamp']));
      expect(ids).toContain(it.event.id);
    }
  });

  it('Sumo Logic: newline-delimited compact JSON, gzip', async () => {
    const r = await receiver();
    await destination({ siem: 'sumo_logic', url: `${r.url}/receiver/v1/http/ZaVnC4dhaV1-token`, options: { category: 'aegis/audit' } });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    await r.waitFor((reqs) => new Set(reqs.flatMap(eventIdsOf)).size >= 3, 60_000);
    const req = r.requests[0]!;
    commonChecks(req, true);
    expect(req.headers['x-sumo-category']).toBe('aegis/audit');
    const lines = req.body
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    for (const l of lines) {
      expect(l).not.toMatch(/\n/);
      expect(ids).toContain(JSON.parse(l).event.id);
    }
  });

  it('New Relic: the detailed envelope with common attributes and one log per event', async () => {
    const r = await receiver(() => ({ status: 202, body: '{"requestId":"x"}' }));
    await destination({ siem: 'new_relic', url: `${r.url}/log/v1`, auth_header_name: 'Api-Key', auth_header_value: 'nr-license-key-123' });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    await r.waitFor((reqs) => new Set(reqs.flatMap(eventIdsOf)).size >= 3, 60_000);
    const req = r.requests[0]!;
    commonChecks(req, true);
    expect(req.headers['api-key']).toBe('nr-license-key-123');
    const body = JSON.parse(req.body.toString('utf8'));
    expect(body).toHaveLength(1);
    expect(body[0].common.attributes).toMatchObject({ service: 'aegis-audit-stream', logtype: 'aegis.audit' });
    for (const log of body[0].logs) {
      expect(typeof log.timestamp).toBe('number');
      expect(log.message).toBe(log.attributes.aegis.summary);
      expect(ids).toContain(log.attributes.event.id);
    }
  });

  it('custom: one plain object per POST with Idempotency-Key, no gzip', async () => {
    const r = await receiver();
    await destination({ url: `${r.url}/hook`, auth_header_name: 'Authorization', auth_header_value: 'Bearer custom-token' });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    await r.waitFor((reqs) => reqs.length >= 3, 60_000);
    for (const req of r.requests) {
      commonChecks(req, false);
      expect(req.headers.authorization).toBe('Bearer custom-token');
      const event = JSON.parse(req.body.toString('utf8'));
      expect(Array.isArray(event)).toBe(false);
      expect(event.event.id).toBe(req.headers['idempotency-key']);
      expect(ids).toContain(event.event.id);
    }
    expect(new Set(r.requests.map((q) => q.headers['idempotency-key']))).toEqual(new Set(ids));
  });

  it('custom with "signing": true: the secret is returned once and every request verifies with standardwebhooks', async () => {
    const r = await receiver();
    const { id, body } = await destination({ url: `${r.url}/signed`, signing: true });
    expect(body.signing_secret).toMatch(/^whsec_/);
    const again = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${id}`, { apiKey: org.apiKey });
    expect(JSON.stringify(again.body)).not.toContain(body.signing_secret);
    const ids = await seedEvents(tdb.db, org.orgId, 2);
    await r.waitFor((reqs) => reqs.length >= 2, 60_000);
    const wh = new Webhook(body.signing_secret);
    for (const req of r.requests) {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const verified = wh.verify(req.body.toString('utf8'), headers) as { event: { id: string } };
      expect(ids).toContain(verified.event.id);
      expect(req.headers['webhook-id']).toBe(verified.event.id);
    }
    // A tampered body must not verify (the check can fail).
    const req = r.requests[0]!;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    expect(() => wh.verify(req.body.toString('utf8').replace('ALLOWED', 'BLOCKED'), headers)).toThrow();
  });

  it('Elastic _bulk: create + _id = event.id NDJSON; per-item 201/409 done, 400 dead-lettered, 429 given back alone', async () => {
    const seen = new Map<string, number>();
    let ids: string[] = [];
    const r = await receiver((req) => {
      const lines = req.body.toString('utf8').split('\n');
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const n = (seen.get(action._id) ?? 0) + 1;
        seen.set(action._id, n);
        // Which seeded event this is (seeding may still be returning when the request arrives).
        const which = Number(/\(#(\d+)\)/.exec(JSON.parse(lines[i + 1]!).aegis.summary)![1]);
        let status = 201;
        let error: unknown;
        if (which === 1) {
          status = 409;
          error = { type: 'version_conflict_engine_exception', reason: 'document already exists' };
        } else if (which === 2) {
          status = 400;
          error = { type: 'mapper_parsing_exception', reason: 'failed to parse field [aegis.input_size_bytes]' };
        } else if (which === 3 && n === 1) {
          status = 429;
          error = { type: 'es_rejected_execution_exception', reason: 'rejected execution' };
        }
        items.push({ create: { _index: action._index, _id: action._id, status, ...(error ? { error } : {}) } });
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ took: 3, errors: items.some((i) => i.create.status >= 300), items }),
      };
    });
    const dest = await destination({ siem: 'elastic', url: `${r.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' });
    ids = await seedEvents(tdb.db, org.orgId, 4);
    await expect.poll(() => seen.get(ids[3]!) ?? 0, { timeout: 60_000 }).toBe(2);
    // Each event's job ('gone' once delivered: a settle deletes a delivered job; every job was queued
    // with its event, so a missing one was settled as delivered, not retried or dead-lettered).
    const statusOf = async () => {
      const rows = await jobRows(tdb.db, dest.id);
      return ids.map((id) => rows.find((j) => j.event_id === id)?.status ?? 'gone').join(',');
    };
    await expect.poll(statusOf, { timeout: 60_000 }).toBe('gone,gone,failed,gone');
    // The delivery log agrees: the 201, the 409 and the retried item delivered; the 400 and the 429 failed.
    expect(await deliveryLog(tdb.db, dest.id)).toEqual({ delivered: 3, failed: 2 });

    const first = r.requests[0]!;
    commonChecks(first, true);
    expect(first.headers['content-type']).toBe('application/x-ndjson');
    expect(first.headers.authorization).toBe('ApiKey aWQ6a2V5');
    const text = first.body.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n').slice(0, -1);
    expect(lines.length % 2).toBe(0);
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!);
      const doc = JSON.parse(lines[i + 1]!);
      expect(Object.keys(action)).toEqual(['create']);
      expect(action.create._id).toBe(doc.event.id);
      // The data stream of the event's own dataset: data_stream.dataset and event.dataset agree (ECS).
      expect(action.create._index).toBe(`logs-${doc.event.dataset}-default`);
      expect(typeof doc['@timestamp']).toBe('string');
    }
    // The 429 item went again, alone; the 201, 409 and 400 items were never sent twice.
    expect(seen.get(ids[3]!)).toBe(2);
    expect(seen.get(ids[0]!)).toBe(1);
    expect(seen.get(ids[1]!)).toBe(1);
    expect(seen.get(ids[2]!)).toBe(1);
    const retryReq = r.requests.find((q) => q !== first && eventIdsOf(q).includes(ids[3]!));
    expect(eventIdsOf(retryReq!)).toEqual([ids[3]]);

    const failed = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${dest.id}/failed-events`, { apiKey: org.apiKey });
    expect(failed.status).toBe(200);
    const list = failed.body.events ?? failed.body.failed_events ?? failed.body;
    expect(list.map((e: { event_id: string }) => e.event_id)).toEqual([ids[2]]);
    expect(list[0].last_error).toMatch(/mapper_parsing_exception/);
    expect(list[0].attempts).toBe(1);
  });

  // A 200 that is no _bulk answer, and a per-item 403 (the key lacks create_doc) for every event, are
  // the cluster's state, not the documents': each is retried on the schedule, never delivered nor
  // dead-lettered, and the events arrive once the cluster takes them.
  it('Elastic _bulk: a 200 without "errors" and per-item 403s are retried, then delivered on 201', async () => {
    const seen = new Map<string, number>();
    const unauthorized = { type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [abc] of user [u]' };
    const r = await receiver((req) => {
      const lines = req.body.toString('utf8').split('\n');
      const items = [];
      let first = true;
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!).create;
        const n = (seen.get(action._id) ?? 0) + 1;
        seen.set(action._id, n);
        if (n > 1) first = false;
        // Two refused attempts of each event, one fewer than the retry schedule allows.
        items.push({
          create: { _index: action._index, _id: action._id, ...(n <= 2 ? { status: 403, error: unauthorized } : { status: 201, result: 'created' }) },
        });
      }
      // The first request of fresh events: a proxy's (or a wrong endpoint's) 200 with no _bulk result.
      if (first) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"acknowledged":true}' };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ took: 3, errors: items.some((i) => i.create.status >= 300), items }),
      };
    });
    const dest = await destination({ siem: 'elastic', url: `${r.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: 'ApiKey aWQ6a2V5' });
    const ids = await seedEvents(tdb.db, org.orgId, 3);
    // Delivered: every job is gone (a settle deletes a delivered job; a retried or dead-lettered one stays).
    await expect.poll(async () => (await jobRows(tdb.db, dest.id)).map((j) => `${j.event_id}:${j.status}`), { timeout: 90_000 }).toEqual([]);
    for (const id of ids) expect(seen.get(id)).toBe(3);
    const failed = await svc.request('GET', `/api/orgs/${org.orgId}/forwarding-destinations/${dest.id}/failed-events`, { apiKey: org.apiKey });
    expect(failed.status).toBe(200);
    expect(failed.body.events ?? failed.body.failed_events ?? failed.body).toEqual([]);
    // Two refused attempts of each event, then one delivery; each refusal says what to do, and that Aegis retries.
    expect(await deliveryLog(tdb.db, dest.id)).toEqual({ delivered: 3, failed: 6 });
    const { rows } = await tdb.db.query<{ error: string }>(
      `SELECT error FROM delivery_attempts WHERE destination_id = $1 AND event_count > 0 AND failed_count > 0 ORDER BY id`,
      [dest.id],
    );
    expect(rows.some((x) => /without a _bulk result.*\/_bulk.*Aegis will retry\.$/.test(x.error))).toBe(true);
    expect(rows.some((x) => /security_exception.*create_doc.*Aegis will retry\.$/.test(x.error))).toBe(true);
    expect(rows.every((x) => /Aegis will retry\.$/.test(x.error))).toBe(true);
  });
});
