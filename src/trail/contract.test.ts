import { describe, expect, it } from 'vitest';
import { buildTrailEvent, TRAIL_ACTIONS, type TrailChange } from './contract.js';
import { createdFields, destinationChanges, notificationChanges, type DestinationConfig } from './changes.js';
import { validateTrailEvent, validateWireEvent } from '../events/validate.js';
import { SIEM_IDS } from '../siem/catalog.js';

const actor = { type: 'api_key' as const, id: 'key_0123456789abcdef' };
const base: DestinationConfig = {
  name: null,
  url: 'https://siem.example.com/ingest',
  auth_header_name: 'Authorization',
  auth_header_sealed: Buffer.from('box-1'),
  signing_secret_sealed: null,
  options: { index: 'main' },
  filter: null,
  enabled: true,
};

describe('trail events', () => {
  it('every action, for every SIEM, validates against the published schema', () => {
    for (const action of TRAIL_ACTIONS) {
      for (const siem of SIEM_IDS) {
        const change: TrailChange = action === 'notification_settings_changed'
          ? { action, changedFields: ['emails'] }
          : { action, changedFields: ['url', 'options.index'], destination: { id: 'fwd_abc', siem } };
        const e = buildTrailEvent({ orgId: 'org_x', actor, change, occurredAt: new Date('2026-11-30T08:00:00Z') });
        expect(validateTrailEvent(e), `${action}/${siem}`).toEqual([]);
        expect(validateWireEvent(e)).toEqual([]);
        expect(e.event.dataset).toBe('aegis.audit_stream');
        expect(e.event.action).toBe(action);
      }
    }
  });

  it('the schema refuses a value smuggled in, an unknown action and a destination-less destination change', () => {
    const e = buildTrailEvent({ orgId: 'org_x', actor, change: { action: 'destination_updated', changedFields: ['url'], destination: { id: 'fwd_a', siem: 'custom' } }, occurredAt: new Date() });
    expect(validateTrailEvent({ ...e, aegis: { ...e.aegis, url: 'https://x' } }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, aegis: { ...e.aegis, changed_fields: ['https://user:pw@x'] } }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, event: { ...e.event, action: 'destination_renamed' } }).length).toBeGreaterThan(0);
    const { destination_id: _d, ...noDest } = e.aegis;
    expect(validateTrailEvent({ ...e, aegis: noDest }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, event: { ...e.event, type: ['creation'] } }).length).toBeGreaterThan(0);
  });

  it('the summary names the actor, the change and field names only', () => {
    const e = buildTrailEvent({ orgId: 'org_x', actor, change: { action: 'destination_disabled', changedFields: ['enabled'], destination: { id: 'fwd_a', siem: 'splunk_hec' } }, occurredAt: new Date() });
    expect(e.aegis.summary).toBe('API key key_0123456789abcdef disabled destination fwd_a (Splunk HEC): enabled.');
  });
});

describe('destinationChanges', () => {
  it('names settings, credential, signing and enabling as separate actions, in order', () => {
    const after: DestinationConfig = {
      ...base,
      url: 'https://siem.example.com/other',
      options: { index: 'audit', source: 'aegis' },
      filter: { 'event.dataset': 'aegis.preflight' },
      auth_header_sealed: Buffer.from('box-2'),
      enabled: false,
    };
    expect(destinationChanges(base, after, { signingRotated: false })).toEqual([
      { action: 'destination_updated', changedFields: ['url', 'options.index', 'options.source', 'filter'] },
      { action: 'credential_rotated', changedFields: ['auth_header_value'] },
      { action: 'destination_disabled', changedFields: ['enabled'] },
    ]);
  });

  it('records nothing for a request that changes nothing, and removal and rotation of secrets by name', () => {
    expect(destinationChanges(base, { ...base, options: { index: 'main' } }, { signingRotated: false })).toEqual([]);
    expect(destinationChanges(base, { ...base, auth_header_sealed: null }, { signingRotated: false })).toEqual([{ action: 'credential_removed', changedFields: ['auth_header_value'] }]);
    const signed = { ...base, signing_secret_sealed: Buffer.from('s1') };
    expect(destinationChanges(signed, { ...signed, signing_secret_sealed: Buffer.from('s2') }, { signingRotated: true })).toEqual([
      { action: 'signing_secret_rotated', changedFields: ['signing_secret'] },
    ]);
    expect(destinationChanges(base, signed, { signingRotated: true })).toEqual([{ action: 'destination_updated', changedFields: ['signing'] }]);
    expect(destinationChanges({ ...base, enabled: false }, base, { signingRotated: false })).toEqual([{ action: 'destination_enabled', changedFields: ['enabled'] }]);
    expect(createdFields(base)).toEqual(['url', 'auth_header_name', 'auth_header_value', 'options.index', 'enabled']);
  });

  it('notification settings: names only, null when unchanged', () => {
    const before = { emails: ['a@example.com'], webhook_url: null, webhook_secret_sealed: null };
    expect(notificationChanges(before, before)).toBeNull();
    expect(notificationChanges(before, { emails: [], webhook_url: 'https://hooks.example.com/x', webhook_secret_sealed: Buffer.from('s') })).toEqual({
      action: 'notification_settings_changed',
      changedFields: ['emails', 'webhook_url', 'webhook_signing_secret'],
    });
  });
});
