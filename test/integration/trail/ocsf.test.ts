// Configuration trail events to OCSF destinations, end to end: real service, real HTTPS receivers,
// both databases. An OCSF destination receives every trail event as an OCSF 1.8.0 Entity Management
// event (class 3004), valid by the vendored official schema, its farewell included; preflight
// decisions and the test event stay Data Security Findings, in the same batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';
import { assertValidOcsf } from '../../../src/events/ocsfSchema.js';
import { ocsfEventsOf } from '../../support/ocsfBodies.js';
import { apiKeyActorId } from '../../../src/auth/apiKeys.js';
import { getPresetInfo, type SiemId } from '../../../src/siem/catalog.js';

const WAIT = { timeout: 60_000, interval: 100 };
type Json = any;

describe.each(DB_KINDS)('configuration trail to OCSF destinations (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  const receivers: Receiver[] = [];
  let org: { orgId: string; apiKey: string };
  let base: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db);
    org = await svc.newOrg();
    base = `/api/orgs/${org.orgId}/forwarding-destinations`;
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await tdb?.close();
  });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver(undefined, { trail: 'handle' });
    receivers.push(r);
    return r;
  }
  async function api(method: string, path: string, body?: unknown) {
    const res = await svc.request(method, path, { apiKey: org.apiKey, ...(body !== undefined ? { body } : {}) });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    return res.body;
  }
  /** Every OCSF event a receiver got, in arrival order, each validated against the class it claims. */
  const eventsOf = (r: Receiver, siem: SiemId): Json[] => r.requests.flatMap((q) => ocsfEventsOf(siem, q.body.toString('utf8')));
  const trailOf = (r: Receiver, siem: SiemId): Json[] => eventsOf(r, siem).filter((e) => e.class_uid === 3004);
  const actions = (r: Receiver, siem: SiemId, destinationId: string): string[] =>
    trailOf(r, siem)
      .filter((e) => e.entity.uid === destinationId)
      .map((e) => e.metadata.event_code as string);

  it('an OCSF webhook and an OCSF Splunk HEC get every change as Entity Management; the disabled one its farewell last', async () => {
    const hook = await receiver();
    const hec = await receiver();
    const ecs = await receiver();
    const credential = 'Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f';
    const hookId = (await api('POST', base, { siem: 'custom', url: `${hook.url}/hook`, format: 'ocsf', signing: true })).destination_id as string;
    const hecId = (
      await api('POST', base, {
        siem: 'splunk_hec',
        format: 'ocsf',
        url: `${hec.url}/services/collector/event`,
        auth_header_name: 'Authorization',
        auth_header_value: credential,
      })
    ).destination_id as string;
    // Another destination is created and changed: both OCSF destinations are told.
    const otherId = (
      await api('POST', base, {
        siem: 'elastic',
        url: `${ecs.url}/_bulk`,
        auth_header_name: 'Authorization',
        auth_header_value: 'ApiKey aWQ6a2V5',
        options: { index: 'aegis' },
      })
    ).destination_id as string;
    await api('PATCH', `${base}/${otherId}`, { name: 'Team ELK', options: { index: 'audit' } });
    await api('PUT', `/api/orgs/${org.orgId}/notification-settings`, { emails: ['ops@example.com'], webhook_url: null });
    // A preflight decision and the webhook's test event: findings, beside the trail.
    const decision = await api('POST', `/api/orgs/${org.orgId}/preflight`, { input: 'mail jane.doe@example.org', destination: 'CHAT' });
    expect((await api('POST', `${base}/${hookId}/test`)).ok).toBe(true);
    // Every change so far has reached the webhook before it is disabled: on a loaded machine a request
    // can time out and its events wait for a retry, and a disabled destination receives only its
    // farewell, so an event still waiting then would never come.
    await expect
      .poll(() => trailOf(hook, 'custom').map((e) => e.metadata.event_code as string), WAIT)
      .toEqual(expect.arrayContaining(['destination_updated', 'notification_settings_changed', 'test_sent']));
    // Disable the OCSF webhook: it receives its own destination_disabled, last.
    await api('PATCH', `${base}/${hookId}`, { enabled: false });

    await expect.poll(() => actions(hook, 'custom', hookId).at(-1), WAIT).toBe('destination_disabled');
    await expect.poll(() => actions(hec, 'splunk_hec', hookId), WAIT).toContain('destination_disabled');
    await expect.poll(() => eventsOf(hec, 'splunk_hec').some((e) => e.metadata.uid === decision.preflight_id), WAIT).toBe(true);
    // The HEC's events need not arrive in order (a batch retried after a timeout comes after newer ones).
    await expect.poll(() => trailOf(hec, 'splunk_hec').some((e) => e.metadata.event_code === 'test_sent'), WAIT).toBe(true);

    for (const [r, siem] of [
      [hook, 'custom'],
      [hec, 'splunk_hec'],
    ] as const) {
      const events = eventsOf(r, siem);
      for (const e of events) assertValidOcsf(e);
      // Trail events are Entity Management, everything else a Data Security Finding; nothing else.
      for (const e of events) expect(e.class_uid).toBe(e.metadata.source === 'aegis.audit_stream' ? 3004 : 2006);
      const trail = trailOf(r, siem);
      for (const e of trail) {
        expect(e.actor.user).toMatchObject({ uid: apiKeyActorId(org.apiKey), org: { uid: org.orgId } });
        expect(e.actor.user.programmatic_credentials).toEqual([{ uid: apiKeyActorId(org.apiKey), type: 'API Key' }]);
        expect(e.metadata).toMatchObject({ tenant_uid: org.orgId, source: 'aegis.audit_stream', version: '1.8.0' });
        expect(e.metadata.uid).toMatch(/^cfg_/);
      }
      expect(actions(r, siem, otherId)).toEqual(['destination_created', 'destination_updated']);
      const updated = trail.find((e) => e.entity.uid === otherId && e.metadata.event_code === 'destination_updated');
      expect(updated).toMatchObject({
        activity_id: 3,
        activity_name: 'Update',
        entity: { uid: otherId, name: getPresetInfo('elastic').label, type: 'Forwarding Destination', type_id: 99 },
      });
      expect(updated.unmapped.aegis.changed_fields).toEqual(['name', 'options.index']);
      const notif = trail.find((e) => e.metadata.event_code === 'notification_settings_changed');
      expect(notif).toMatchObject({
        activity_id: 3,
        entity: { name: 'Notification settings', type: 'Notification Settings' },
        unmapped: { aegis: { changed_fields: ['emails'] } },
      });
      expect(trail.find((e) => e.metadata.event_code === 'test_sent')).toMatchObject({
        activity_id: 99,
        activity_name: 'Test',
        status_id: 1,
        entity: { uid: hookId },
      });
      const disabled = trail.find((e) => e.entity.uid === hookId && e.metadata.event_code === 'destination_disabled');
      expect(disabled).toMatchObject({
        activity_id: 9,
        activity_name: 'Disable',
        type_uid: 300409,
        severity_id: 2,
        entity: { uid: hookId, name: getPresetInfo('custom').label },
      });
      expect(disabled.unmapped.aegis.changed_fields).toEqual(['enabled']);
      // Names, never values: no URL, credential, filter or address of any change.
      const bytes = r.requests.map((q) => q.body.toString('utf8')).join('\n');
      for (const value of [credential, '5f8d1c2e', ecs.url, hook.url, 'ops@example.com', 'Team ELK', 'jane.doe@example.org'])
        expect(bytes).not.toContain(value);
    }
    // The webhook: its own creation first, the hec's creation and the rest, its farewell last.
    const own = trailOf(hook, 'custom');
    expect(own[0]).toMatchObject({ activity_id: 1, activity_name: 'Create', entity: { uid: hookId } });
    expect(own.at(-1)!.metadata.event_code).toBe('destination_disabled');
    expect(actions(hook, 'custom', hecId)).toEqual(['destination_created']);
    const test = eventsOf(hook, 'custom').find((e) => e.metadata.source === 'aegis.audit_stream.test');
    expect(test, 'the test event, a finding').toMatchObject({ class_uid: 2006, metadata: { labels: ['test'] } });

    // Nothing was dead-lettered: every trail job of both destinations was delivered.
    await svc.service.worker?.idle();
    const { rows } = await tdb.db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM forwarding_jobs WHERE destination_id = ANY($1::text[]) AND status <> 'done' GROUP BY status`,
      [[hookId, hecId]],
    );
    expect(rows).toEqual([]);
  });

  it('a deleted OCSF Splunk HEC destination receives its destination_deleted farewell as Entity Management', async () => {
    const hec = await receiver();
    const id = (
      await api('POST', base, {
        siem: 'splunk_hec',
        format: 'ocsf',
        url: `${hec.url}/services/collector/event`,
        auth_header_name: 'Authorization',
        auth_header_value: 'Splunk 0f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
      })
    ).destination_id as string;
    await expect.poll(() => actions(hec, 'splunk_hec', id), WAIT).toEqual(['destination_created']);
    await api('DELETE', `${base}/${id}`);
    await expect.poll(() => actions(hec, 'splunk_hec', id), WAIT).toEqual(['destination_created', 'destination_deleted']);
    const farewell = trailOf(hec, 'splunk_hec').at(-1)!;
    assertValidOcsf(farewell, 'entity_management');
    expect(farewell).toMatchObject({
      activity_id: 4,
      activity_name: 'Delete',
      type_name: 'Entity Management: Delete',
      entity: { uid: id, name: getPresetInfo('splunk_hec').label },
    });
    const envelopes = hec.requests
      .at(-1)!
      .body.toString('utf8')
      .replace(/}\s*{"time"/g, '}\n{"time"')
      .split('\n')
      .map((l) => JSON.parse(l) as { sourcetype: string; event: Json });
    expect(envelopes.at(-1)!.sourcetype).toBe('ocsf:aegis:audit');
    expect(envelopes.at(-1)!.event.metadata.event_code).toBe('destination_deleted');
    // Delivered (not dead-lettered), so the row goes.
    await expect.poll(async () => (await tdb.db.query('SELECT 1 FROM destinations WHERE id = $1', [id])).rowCount, WAIT).toBe(0);
  });
});
