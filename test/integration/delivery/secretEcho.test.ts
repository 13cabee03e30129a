// Issue 14: a receiver that echoes the credential back — in the body or in a redirect's Location, in
// any spelling (case, JSON escapes, percent-encoding, base64/base64url at any offset, hex, the bare
// token) — must not put it into last_error, failed-events, the /test answer, the delivery log or any
// other row of the database. The auth header value and the Standard Webhooks signing secret carry `/`
// and `+`, the characters the old verbatim-only scrub missed once escaped.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { dumpDatabase } from '../../support/dbDump.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { cutAnswer, DECISIONS_ONLY, startReceiver, type Receiver, type ReceiverResponse } from '../../support/httpsReceiver.js';
import { echoedForms, leakScanner } from '../../support/secretForms.js';

const AUTH_VALUE = 'Bearer sk/Zq+7vWd/e3+Kp9Lm/Xy+T0kEn/4Aa+Bb==';
const FORM_NAMES = Object.keys(echoedForms(AUTH_VALUE));

interface Case {
  secret: 'auth' | 'signing';
  form: string;
  mode: 'body' | 'redirect';
  destinationId?: string;
  signingSecret?: string;
  org?: { orgId: string; apiKey: string };
}

describe.each(DB_KINDS)('credentials echoed by a receiver are scrubbed everywhere (%s)', (kind) => {
  let tdb: TestDb;
  let receiver: Receiver;
  let svc: TestService;
  const cases: Case[] = [];

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    receiver = await startReceiver((req): ReceiverResponse => {
      if (req.path.startsWith('/idem')) {
        // A custom webhook receiver pointing at its receipt for our event id (the Idempotency-Key),
        // carelessly quoting the credential too.
        const id = String(req.headers['idempotency-key']);
        const auth = String(req.headers.authorization);
        return { status: 303, headers: { location: `https://siem.example.com/receipts/${id}/${auth}` }, body: `{"received":"${id}","auth":"${auth}"}` };
      }
      const c = cases[Number(/^\/echo\/(\d+)/.exec(req.path)?.[1])];
      if (!c) return { status: 404, body: 'unknown case' };
      const secret = c.secret === 'auth' ? String(req.headers.authorization) : c.signingSecret!;
      const echoed = echoedForms(secret)[c.form]!;
      return c.mode === 'redirect'
        ? { status: 302, headers: { location: `https://siem.example.com/${echoed}/in?token=${echoed}` }, body: `moved ${echoed}` }
        : { status: 400, headers: { 'content-type': 'application/json', 'x-echo': echoed }, body: `{"error":"${echoed}"}` };
    });
    // One retry, soon: the echo goes through both settlements a failed attempt can have (retried with
    // its error on the job, then dead-lettered with it) without three more rounds of 76 HTTPS
    // deliveries and a second's wait between them.
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '0.2' });
  });
  afterAll(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.close();
  });

  it('an echoed Idempotency-Key (the event id) stays readable in the /test answer and the delivery log; the credential does not', async () => {
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const created = await svc.request('POST', base, {
      apiKey: org.apiKey,
      body: { url: `${receiver.url}/idem`, auth_header_name: 'Authorization', auth_header_value: AUTH_VALUE },
    });
    expect(created.status, created.text).toBe(201);
    const destinationId = created.body.destination_id as string;
    const probe = await svc.request('POST', `${base}/${destinationId}/test`, { apiKey: org.apiKey });
    expect(probe.status, probe.text).toBe(200);
    // Trail events (destination_created, test_sent) may reach the receiver too; the probe's is the test event.
    const sent = receiver.requests.filter((r) => r.path.startsWith('/idem') && String(r.headers['idempotency-key']).startsWith('pflt_test_'));
    expect(sent).toHaveLength(1);
    const eventId = String(sent[0]!.headers['idempotency-key']);
    expect(eventId.length).toBeGreaterThan(8);
    expect(probe.body.error).toContain(`https://siem.example.com/receipts/${eventId}/[redacted]`);
    const { rows } = await tdb.db.query<{ error: string; response_snippet: string }>(
      // event_count 0: the probe's row, not a trail event's delivery.
      'SELECT error, response_snippet FROM delivery_attempts WHERE destination_id = $1 AND event_count = 0',
      [destinationId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error).toContain(`/receipts/${eventId}/[redacted]`);
    expect(rows[0]!.response_snippet).toContain(`"received":"${eventId}"`);
    const leaked = leakScanner(JSON.stringify([probe.body, rows]));
    expect(leaked(AUTH_VALUE)).toBeNull();
  });

  /**
   * A destination on `receiver` holding `authValue` as its Authorization header, tested once: the
   * /test answer (a failure) and the probe's one delivery-log row.
   */
  async function failedProbe(receiver: Receiver, authValue: string) {
    const org = await svc.newOrg();
    const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
    const created = await svc.request('POST', base, {
      apiKey: org.apiKey,
      body: { url: `${receiver.url}/in`, auth_header_name: 'Authorization', auth_header_value: authValue },
    });
    expect(created.status, created.text).toBe(201);
    const destinationId = created.body.destination_id as string;
    const probe = await svc.request('POST', `${base}/${destinationId}/test`, { apiKey: org.apiKey });
    expect(probe.status, probe.text).toBe(200);
    expect(probe.body.ok).toBe(false);
    const { rows } = await tdb.db.query<{ error: string | null; response_snippet: string | null }>(
      // event_count 0: the probe's row, not a trail event's delivery.
      'SELECT error, response_snippet FROM delivery_attempts WHERE destination_id = $1 AND event_count = 0',
      [destinationId],
    );
    expect(rows).toHaveLength(1);
    return { probe, rows };
  }

  it('an answer cut short inside the echoed credential leaves no start of it anywhere', async () => {
    // A refusal (its status stands however its body ends) whose body breaks off 13 characters into
    // the token: no whole form of the secret is left to match, only its start.
    const tokenStart = AUTH_VALUE.slice('Bearer '.length, 20);
    const cutting = await startReceiver(cutAnswer(400, `{"error":"bad header ${AUTH_VALUE.slice(0, 20)}`));
    try {
      const { probe, rows } = await failedProbe(cutting, AUTH_VALUE);
      expect(rows[0]!.response_snippet).toBe('{"error":"bad header [redacted]');
      const seen = JSON.stringify([probe.body, rows]);
      expect(seen).not.toContain(tokenStart.slice(0, 5));
      expect(seen).not.toContain(tokenStart.slice(-5));
    } finally {
      await cutting.close();
    }
  });

  it("one pair of a structured credential (Azure's SharedAccessSignature), echoed decoded by the receiver, is in neither the /test answer nor the delivery log", async () => {
    const sig = createHash('sha256').update('sas-signature').digest('base64');
    const authValue = `SharedAccessSignature sr=https%3A%2F%2Fmyns.servicebus.windows.net%2Fmyhub&sig=${encodeURIComponent(sig)}&se=1900000000&skn=RootManageSharedAccessKey`;
    // Event Hubs' refusal names the signature it read, decoded, and nothing else of the header.
    const azure = await startReceiver((req): ReceiverResponse => {
      const read = new URLSearchParams(String(req.headers.authorization).replace(/^SharedAccessSignature /, '')).get('sig');
      return {
        status: 401,
        headers: { 'content-type': 'application/json' },
        body: `{"error":{"code":"InvalidSignature","message":"The signature ${read} is not valid for this resource."}}`,
      };
    });
    try {
      const { probe, rows } = await failedProbe(azure, authValue);
      expect(rows[0]!.response_snippet).toBe('{"error":{"code":"InvalidSignature","message":"The signature [redacted] is not valid for this resource."}}');
      const seen = JSON.stringify([probe.body, rows]);
      expect(seen).toContain('InvalidSignature');
      expect(seen).not.toContain(sig.slice(0, 10));
      expect(seen).not.toContain(sig.slice(-12, -1));
    } finally {
      await azure.close();
    }
  });

  it('a long bearer token echoed folded at 64 columns in a 400 text answer is in neither the delivery log, last_error nor the /test answer', async () => {
    // A 300-character token: every line of the echo is shorter than half of it (no piece goes), and
    // the answer quotes it as a receiver printing the headers it saw folds it.
    let token = '';
    for (let i = 0; token.length < 300; i++) token += createHash('sha256').update(`folded-token-${i}`).digest('base64url');
    const authValue = `Bearer ${token.slice(0, 300)}`;
    const folding = await startReceiver(
      (req): ReceiverResponse => {
        const seen = String(req.headers.authorization)
          .match(/.{1,64}/g)!
          .join('\n');
        return { status: 400, headers: { 'content-type': 'text/plain' }, body: `Bad request. Headers seen:\nauthorization: ${seen}\n` };
        // The configuration trail too ('handle'): answered 200 by the receiver itself, its delivery
        // would clear the last_error this test reads, as soon as the worker got to it.
      },
      { trail: 'handle' },
    );
    try {
      const org = await svc.newOrg();
      const base = `/api/orgs/${org.orgId}/forwarding-destinations`;
      const created = await svc.request('POST', base, {
        apiKey: org.apiKey,
        body: { url: `${folding.url}/in`, auth_header_name: 'Authorization', auth_header_value: authValue },
      });
      expect(created.status, created.text).toBe(201);
      const destinationId = created.body.destination_id as string;
      const probe = await svc.request('POST', `${base}/${destinationId}/test`, { apiKey: org.apiKey });
      expect(probe.status, probe.text).toBe(200);
      expect(probe.body.ok).toBe(false);
      // The trail event (destination_created) the worker delivers fails the same way: last_error.
      const lastError = async () => (await svc.request('GET', `${base}/${destinationId}`, { apiKey: org.apiKey })).body.last_error as string | null;
      await expect.poll(lastError, { timeout: 90_000, interval: 250, message: 'the trail event fails into last_error' }).toBeTruthy();
      const { rows } = await tdb.db.query<{ error: string | null; response_snippet: string | null }>(
        'SELECT error, response_snippet FROM delivery_attempts WHERE destination_id = $1 AND response_snippet IS NOT NULL',
        [destinationId],
      );
      expect(rows.length).toBeGreaterThanOrEqual(1);
      for (const row of rows) expect(row.response_snippet).toBe(`Bad request. Headers seen:\nauthorization: [redacted]\n`);
      const seen = JSON.stringify([probe.body, rows, await lastError()]).replace(/\\n|\\r| /g, '');
      expect(seen).toContain('[redacted]');
      for (let at = 0; at + 12 <= 300; at += 6) expect(seen).not.toContain(token.slice(at, at + 12));
      expect(leakScanner(seen)(authValue)).toBeNull();
    } finally {
      await folding.close();
    }
  });

  it('the /test answer, last_error, failed-events, the delivery log and the database hold no form of either secret', async () => {
    // One organization per case: every configuration change is a trail event sent to each enabled
    // destination of its organization, so eighty destinations in one organization would make thousands
    // of trail requests (quadratic) and mix trail events into the batches under test.
    const base = (c: Case) => `/api/orgs/${c.org!.orgId}/forwarding-destinations`;
    const answers: string[] = [];
    const call = async (c: Case, method: string, path: string, body?: unknown) => {
      const res = await svc.request(method, path, { apiKey: c.org!.apiKey, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      return res;
    };
    // The cases are independent (an organization each): eight in flight at once overlap their round
    // trips (API, database, HTTPS receiver), where one at a time left each waiting on the last.
    const eachCase = async (fn: (c: Case, i: number) => Promise<void>) => {
      for (let at = 0; at < cases.length; at += 8) await Promise.all(cases.slice(at, at + 8).map((c, k) => fn(c, at + k)));
    };

    for (const secret of ['auth', 'signing'] as const) {
      for (const form of FORM_NAMES) for (const mode of ['body', 'redirect'] as const) cases.push({ secret, form, mode });
    }
    await eachCase(async (c, i) => {
      c.org = await svc.newOrg();
      const created = await call(c, 'POST', base(c), {
        url: `${receiver.url}/echo/${i}`,
        auth_header_name: 'Authorization',
        auth_header_value: AUTH_VALUE,
        signing: true,
        // The trail (destination_created, test_sent) would be absorbed by the receiver, never echoed:
        // 152 more HTTPS deliveries that carry nothing this test looks for.
        filter: DECISIONS_ONLY,
      });
      c.destinationId = created.body.destination_id as string;
      c.signingSecret = created.body.signing_secret as string;
      expect(c.signingSecret).toMatch(/^whsec_/);
    });
    const signingSecrets = cases.map((c) => c.signingSecret!);
    const destinationIds = cases.map((c) => c.destinationId!);

    // The synchronous probe, for every case.
    await eachCase(async (c) => {
      const probe = await call(c, 'POST', `${base(c)}/${c.destinationId}/test`);
      expect(probe.body.ok).toBe(false);
      expect(probe.body.error, `${c.secret}/${c.form}/${c.mode}`).toMatch(c.mode === 'redirect' ? /redirects/ : /rejected the event format/);
      answers.push(probe.text);
    });

    // Nothing of these organizations pending (the filter keeps their trail out), so each live event
    // below goes out alone, never batched with another.
    const pendingTrail = async () =>
      (
        await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE org_id = ANY($1::text[]) AND status = 'pending'`, [
          cases.map((c) => c.org!.orgId),
        ])
      ).rows[0]!.n;
    await expect.poll(pendingTrail, { timeout: 120_000, interval: 250, message: 'jobs still pending before the live events' }).toBe(0);
    // The worker: one live event per destination, retried to the dead-letter list.
    await eachCase(async (c) => {
      await call(c, 'POST', `/api/orgs/${c.org!.orgId}/preflight`, { input: 'hello' });
    });
    // One query for all destinations: the ones whose event is not dead-lettered (alone) yet.
    const notDeadLettered = async () => {
      const { rows } = await tdb.db.query<{ destination_id: string }>(
        `SELECT destination_id FROM forwarding_jobs WHERE destination_id = ANY($1::text[]) AND left(event_id, 4) <> 'cfg_'
          GROUP BY destination_id HAVING count(*) FILTER (WHERE status = 'failed') = 1 AND count(*) = 1`,
        [destinationIds],
      );
      const done = new Set(rows.map((r) => r.destination_id));
      return cases.filter((c) => !done.has(c.destinationId!)).map((c) => `${c.destinationId} (${c.secret}/${c.form}/${c.mode})`);
    };
    await expect.poll(notDeadLettered, { timeout: 120_000, interval: 250, message: 'destinations that have not dead-lettered their event' }).toEqual([]);

    await eachCase(async (c) => {
      answers.push((await call(c, 'GET', base(c))).text);
      const one = await call(c, 'GET', `${base(c)}/${c.destinationId}`);
      expect(one.body.last_error, `${c.secret}/${c.form}/${c.mode}`).toBeTruthy();
      const failed = await call(c, 'GET', `${base(c)}/${c.destinationId}/failed-events`);
      expect(failed.body.events, `${c.secret}/${c.form}/${c.mode}`).toHaveLength(1);
      answers.push(one.text, failed.text);
    });
    const apiText = answers.join('\n');
    expect(apiText).toContain('[redacted]');
    // The delivery log (delivery_attempts: error and response snippet) is in the dump.
    const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts WHERE response_snippet IS NOT NULL');
    expect(rows[0]!.n).toBeGreaterThanOrEqual(cases.length * 2);
    const dump = await dumpDatabase(tdb);
    expect(dump).toContain('[redacted]');
    const logs = svc.logs.text();

    for (const [where, text] of [
      ['API answers', apiText],
      ['database', dump],
      ['logs', logs],
    ] as const) {
      const leaked = leakScanner(text);
      expect(leaked(AUTH_VALUE), `${where}: auth value`).toBeNull();
      for (const s of signingSecrets) expect(leaked(s), `${where}: signing secret`).toBeNull();
    }
  }, 300_000); // a ceiling: 76 destinations' probes, deliveries and scans take minutes on PGlite under load
});
