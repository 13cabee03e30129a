import { describe, expect, it } from 'vitest';
import { SIEM_IDS } from './catalog.js';
import { getEncoder } from './registry.js';
import { sampleEvent } from './testEvents.js';
import { batchEvents, epochMillis, type EncodeContext } from './types.js';
import { SPLUNK_OCSF_SOURCETYPE } from './splunk-hec/encoder.js';
import { assertValidOcsf } from '../events/ocsfSchema.js';
import { ocsfEventsOf } from '../../test/support/ocsfBodies.js';
import { buildTrailEvent } from '../trail/contract.js';

const ocsf: EncodeContext = { hostname: 'h', options: {}, userAgent: 'ua', format: 'ocsf' };
const ecs: EncodeContext = { hostname: 'h', options: {}, userAgent: 'ua' };

describe('format "ocsf": every preset wraps the OCSF object instead of the ECS one', () => {
  it.each(SIEM_IDS)('%s', (siem) => {
    const encoder = getEncoder(siem);
    const events = encoder.maxBatchEvents === 1 ? [sampleEvent(1)] : [sampleEvent(1), sampleEvent(2), sampleEvent(3)];
    const req = encoder.encode(events, ocsf);
    const inside = ocsfEventsOf(siem, req.body);
    expect(inside.map((e) => (e.finding_info as { uid: string }).uid)).toEqual(events.map((e) => e.event.id));
    for (const e of inside) {
      assertValidOcsf(e);
      expect(e).not.toHaveProperty('aegis');
      expect(e).not.toHaveProperty('@timestamp');
    }
    // Same envelope ids either way; the ECS body is unchanged by the option's existence.
    expect(req.eventIds).toEqual(encoder.encode(events, ecs).eventIds);
    expect(encoder.encode(events, { ...ocsf, format: 'ecs' }).body).toBe(encoder.encode(events, ecs).body);
  });

  it('preset defaults that name the shape: Splunk sourcetype, Elastic data stream, New Relic logtype, Datadog tag, Sentinel column', () => {
    const e = sampleEvent(1);
    const hec = JSON.parse(getEncoder('splunk_hec').encode([e], ocsf).body) as { sourcetype: string };
    expect(hec.sourcetype).toBe(SPLUNK_OCSF_SOURCETYPE);
    expect(SPLUNK_OCSF_SOURCETYPE).toBe('ocsf:aegis:audit');
    const own = JSON.parse(getEncoder('splunk_hec').encode([e], { ...ocsf, options: { sourcetype: 'mine' } }).body) as { sourcetype: string };
    expect(own.sourcetype).toBe('mine');
    const action = JSON.parse(getEncoder('elastic').encode([e], ocsf).body.split('\n')[0]!) as { create: { _index: string } };
    expect(action.create._index).toBe('logs-aegis.preflight.ocsf-default');
    const nr = JSON.parse(getEncoder('new_relic').encode([e], ocsf).body) as Array<{ common: { attributes: { logtype: string } } }>;
    expect(nr[0]!.common.attributes.logtype).toBe('aegis.audit.ocsf');
    // The date each SIEM reads: Elastic's @timestamp (first, as in ECS documents), Datadog's timestamp
    // (epoch ms) with a status from severity_id, not OCSF's caption ("New" would read as notice).
    const doc = JSON.parse(getEncoder('elastic').encode([e], ocsf).body.split('\n')[1]!) as Record<string, unknown>;
    expect(Object.keys(doc)[0]).toBe('@timestamp');
    expect(doc['@timestamp']).toBe(e['@timestamp']);
    const dd = JSON.parse(getEncoder('datadog').encode([e], ocsf).body) as Array<{
      ddtags: string;
      message: string;
      timestamp: number;
      status: string;
      time: number;
    }>;
    expect(dd[0]!.ddtags).toContain('format:ocsf');
    expect(dd[0]!.message).toBe(e.aegis.summary);
    expect(dd[0]!.timestamp).toBe(epochMillis(e['@timestamp']));
    expect(dd[0]!.timestamp).toBe(dd[0]!.time);
    expect(dd[0]!.status).toBe('notice');
    const az = JSON.parse(getEncoder('microsoft_sentinel').encode([e], ocsf).body) as Array<{ TimeGenerated: string; ocsf: { time: number } }>;
    expect(az[0]!.TimeGenerated).toBe(e['@timestamp']);
    expect(az[0]!.ocsf.time).toBe(Date.parse(e['@timestamp']));
  });

  it.each(SIEM_IDS)('%s: a trail event beside a preflight event is Entity Management beside a finding', (siem) => {
    const encoder = getEncoder(siem);
    const trail = buildTrailEvent({
      orgId: 'org_abc',
      actor: { type: 'api_key', id: 'key_0123456789abcdef' },
      change: { action: 'destination_disabled', changedFields: ['enabled'], destination: { id: 'fwd_a', siem } },
      occurredAt: new Date('2026-11-30T09:00:00Z'),
    });
    const events = (encoder.maxBatchEvents === 1 ? [trail] : [sampleEvent(1), trail]) as unknown as Array<ReturnType<typeof sampleEvent>>;
    const inside = ocsfEventsOf(siem, encoder.encode(events, ocsf).body);
    expect(inside.map((e) => e.class_uid)).toEqual(encoder.maxBatchEvents === 1 ? [3004] : [2006, 3004]);
    for (const e of inside) assertValidOcsf(e);
    expect(inside.at(-1)).toMatchObject({ activity_id: 9, entity: { uid: 'fwd_a' }, metadata: { uid: trail.event.id, source: 'aegis.audit_stream' } });
  });

  it('batching sizes OCSF bodies within each preset limit', () => {
    for (const siem of SIEM_IDS) {
      const encoder = getEncoder(siem);
      const events = Array.from({ length: 50 }, (_, i) => sampleEvent(i));
      const tight = { ...encoder, maxBatchBytes: 4000 };
      for (const group of batchEvents(events, tight, ocsf)) {
        if (group.length > 1) expect(Buffer.byteLength(encoder.encode(group, ocsf).body)).toBeLessThanOrEqual(4000);
      }
    }
  });
});
