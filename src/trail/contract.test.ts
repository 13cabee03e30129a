import { describe, expect, it } from 'vitest';
import { buildTrailEvent, ORGANIZATION_ACTIONS, TRAIL_ACTIONS, type TrailActor, type TrailChange } from './contract.js';
import { createdFields, destinationChanges, notificationChanges, type DestinationConfig } from './changes.js';
import { validateTrailEvent, validateWireEvent } from '../events/validate.js';
import { SIEM_IDS } from '../siem/catalog.js';

const actor = { type: 'api_key' as const, id: 'key_0123456789abcdef' };
const base: DestinationConfig = {
  name: null,
  url: 'https://siem.example.com/ingest',
  format: 'ecs',
  auth_header_name: 'Authorization',
  auth_header_sealed: Buffer.from('box-1'),
  signing_secret_sealed: null,
  options: { index: 'main' },
  filter: null,
  enabled: true,
  auth: null,
  auth_client_secret_sealed: null,
};

const TENANT = '11111111-2222-3333-4444-555555555555';
const sentinel: DestinationConfig = {
  ...base,
  auth_header_name: null,
  auth_header_sealed: null,
  options: {},
  auth: {
    token_url: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
    client_id: '66666666-7777-8888-9999-000000000000',
    scope: 'https://monitor.azure.com//.default',
    token_endpoint_auth_method: 'client_secret_post',
    tenant_id: TENANT,
  },
  auth_client_secret_sealed: Buffer.from('secret-box-1'),
};

describe('trail events', () => {
  it('every action, for every SIEM, validates against the published schema', () => {
    for (const action of TRAIL_ACTIONS) {
      for (const siem of SIEM_IDS) {
        const change: TrailChange = ORGANIZATION_ACTIONS.has(action)
          ? { action, changedFields: ['emails'] }
          : { action, changedFields: ['url', 'options.index'], destination: { id: 'fwd_abc', siem } };
        const e = buildTrailEvent({ orgId: 'org_x', actor, change, occurredAt: new Date('2026-11-30T08:00:00Z') });
        expect(validateTrailEvent(e), `${action}/${siem}`).toEqual([]);
        // An organization-wide action carries no destination; every other one must.
        const { destination_id: _d, siem: _s, ...orgWide } = e.aegis;
        expect(
          validateTrailEvent({ ...e, aegis: ORGANIZATION_ACTIONS.has(action) ? { ...orgWide, destination_id: 'fwd_abc', siem } : orgWide }).length,
          action,
        ).toBeGreaterThan(0);
        expect(validateWireEvent(e)).toEqual([]);
        expect(e.event.dataset).toBe('aegis.audit_stream');
        expect(e.event.action).toBe(action);
      }
    }
  });

  it('the schema refuses a value smuggled in, an unknown action and a destination-less destination change', () => {
    const e = buildTrailEvent({
      orgId: 'org_x',
      actor,
      change: { action: 'destination_updated', changedFields: ['url'], destination: { id: 'fwd_a', siem: 'custom' } },
      occurredAt: new Date(),
    });
    expect(validateTrailEvent({ ...e, aegis: { ...e.aegis, url: 'https://x' } }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, aegis: { ...e.aegis, changed_fields: ['https://user:pw@x'] } }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, event: { ...e.event, action: 'destination_renamed' } }).length).toBeGreaterThan(0);
    const { destination_id: _d, ...noDest } = e.aegis;
    expect(validateTrailEvent({ ...e, aegis: noDest }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...e, event: { ...e.event, type: ['creation'] } }).length).toBeGreaterThan(0);
  });

  it('the summary names the actor, the change and field names only', () => {
    const e = buildTrailEvent({
      orgId: 'org_x',
      actor,
      change: { action: 'destination_disabled', changedFields: ['enabled'], destination: { id: 'fwd_a', siem: 'splunk_hec' } },
      occurredAt: new Date(),
    });
    expect(e.aegis.summary).toBe('API key key_0123456789abcdef disabled destination fwd_a (Splunk HEC): enabled.');
  });

  it('the command line is an actor of its own (cli_ + 16 hex); key rotation is organization-wide', () => {
    const cli: TrailActor = { type: 'cli', id: 'cli_00112233445566ff' };
    const rotated = buildTrailEvent({
      orgId: 'org_x',
      actor: cli,
      change: { action: 'encryption_key_rotated', changedFields: ['auth_header_value', 'signing_secret'] },
      occurredAt: new Date(),
    });
    expect(validateTrailEvent(rotated)).toEqual([]);
    expect(rotated.aegis).toEqual({
      summary:
        "Command line cli_00112233445566ff re-encrypted the organization's stored secrets with the first key of the ring: auth_header_value, signing_secret.",
      actor_type: 'cli',
      actor_id: 'cli_00112233445566ff',
      changed_fields: ['auth_header_value', 'signing_secret'],
    });
    expect(rotated.event.type).toEqual(['change']);
    const replay = buildTrailEvent({
      orgId: 'org_x',
      actor: cli,
      change: { action: 'replay_requested', changedFields: [], destination: { id: 'fwd_a', siem: 'custom' } },
      occurredAt: new Date(),
    });
    expect(validateTrailEvent(replay)).toEqual([]);
    // The schema holds each actor type to its own id form: no user name or host in clear.
    expect(validateTrailEvent({ ...replay, aegis: { ...replay.aegis, actor_id: 'cli_root@build-host' } }).length).toBeGreaterThan(0);
    expect(validateTrailEvent({ ...replay, aegis: { ...replay.aegis, actor_type: 'cron' } }).length).toBeGreaterThan(0);
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
    expect(destinationChanges(base, { ...base, auth_header_sealed: null }, { signingRotated: false })).toEqual([
      { action: 'credential_removed', changedFields: ['auth_header_value'] },
    ]);
    const signed = { ...base, signing_secret_sealed: Buffer.from('s1') };
    expect(destinationChanges(signed, { ...signed, signing_secret_sealed: Buffer.from('s2') }, { signingRotated: true })).toEqual([
      { action: 'signing_secret_rotated', changedFields: ['signing_secret'] },
    ]);
    expect(destinationChanges(base, signed, { signingRotated: true })).toEqual([{ action: 'destination_updated', changedFields: ['signing'] }]);
    expect(destinationChanges({ ...base, enabled: false }, base, { signingRotated: false })).toEqual([
      { action: 'destination_enabled', changedFields: ['enabled'] },
    ]);
    expect(createdFields(base)).toEqual(['url', 'format', 'auth_header_name', 'auth_header_value', 'options.index', 'enabled']);
  });

  it('format: a switch is destination_updated naming format', () => {
    expect(destinationChanges(base, { ...base, format: 'ocsf' }, { signingRotated: false })).toEqual([
      { action: 'destination_updated', changedFields: ['format'] },
    ]);
    expect(destinationChanges(base, { ...base, format: 'ecs' }, { signingRotated: false })).toEqual([]);
  });

  it('OAuth2: settings by auth.<field>, a new client secret is a rotation, removing auth a credential removal', () => {
    expect(createdFields(sentinel)).toEqual([
      'url',
      'format',
      'auth.token_url',
      'auth.client_id',
      'auth.scope',
      'auth.tenant_id',
      'auth.token_endpoint_auth_method',
      'auth.client_secret',
      'enabled',
    ]);
    // A new sealed box alone (PATCH auth with client_secret, same settings).
    expect(destinationChanges(sentinel, { ...sentinel, auth_client_secret_sealed: Buffer.from('secret-box-2') }, { signingRotated: false })).toEqual([
      { action: 'credential_rotated', changedFields: ['auth.client_secret'] },
    ]);
    // Another tenant: the token URL and tenant change; the secret kept (same box) is no rotation.
    const other = '99999999-8888-7777-6666-555555555555';
    const moved = { ...sentinel, auth: { ...sentinel.auth!, tenant_id: other, token_url: `https://login.microsoftonline.com/${other}/oauth2/v2.0/token` } };
    expect(destinationChanges(sentinel, moved, { signingRotated: false })).toEqual([
      { action: 'destination_updated', changedFields: ['auth.token_url', 'auth.tenant_id'] },
    ]);
    // Client id and scope with a new secret: both actions, settings first.
    const rekeyed = { ...sentinel, auth: { ...sentinel.auth!, client_id: 'abc', scope: null }, auth_client_secret_sealed: Buffer.from('secret-box-3') };
    expect(destinationChanges(sentinel, rekeyed, { signingRotated: false })).toEqual([
      { action: 'destination_updated', changedFields: ['auth.client_id', 'auth.scope'] },
      { action: 'credential_rotated', changedFields: ['auth.client_secret'] },
    ]);
    // Unchanged auth records nothing.
    expect(destinationChanges(sentinel, { ...sentinel, auth: { ...sentinel.auth! } }, { signingRotated: false })).toEqual([]);
    // A custom webhook gaining and losing OAuth2.
    const custom = { ...base, auth_header_name: null, auth_header_sealed: null };
    const withAuth = {
      ...custom,
      auth: { token_url: 'https://idp.example.com/token', client_id: 'aegis', scope: null, token_endpoint_auth_method: 'client_secret_basic' },
      auth_client_secret_sealed: Buffer.from('b'),
    };
    expect(destinationChanges(custom, withAuth, { signingRotated: false })).toEqual([
      { action: 'destination_updated', changedFields: ['auth.token_url', 'auth.client_id', 'auth.token_endpoint_auth_method'] },
      { action: 'credential_rotated', changedFields: ['auth.client_secret'] },
    ]);
    expect(destinationChanges(withAuth, custom, { signingRotated: false })).toEqual([{ action: 'credential_removed', changedFields: ['auth'] }]);
  });

  it('OAuth2 changes name fields only: no value of the setting or the secret is in the changes', () => {
    const rekeyed = { ...sentinel, auth: { ...sentinel.auth!, client_id: 'client-id-value' }, auth_client_secret_sealed: Buffer.from('secret-box-2') };
    const text = JSON.stringify([destinationChanges(sentinel, rekeyed, { signingRotated: false }), createdFields(rekeyed)]);
    for (const v of [TENANT, 'client-id-value', 'secret-box', 'login.microsoftonline.com', 'monitor.azure.com']) expect(text).not.toContain(v);
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
