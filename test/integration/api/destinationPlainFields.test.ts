// A destination's credentials are sealed and never shown back; every other setting is stored in clear
// and shown by the API, the dashboard and the configuration trail. A credential pasted into one of
// those plain fields (a token as the header name, as the name, as a Splunk index) used to be stored
// and shown in clear. Now create and PATCH refuse it with a 400 naming the field and where the
// credential goes, without echoing it, and nothing is stored. Ordinary names and options still pass.
import { describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';

const GITHUB = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5';
const SLACK = 'xoxb-2946183746-5081726354-Zq8vT2xkLm9Pw4RcN7yB';
const AWS = 'AKIA4Q2RZ7XKHW3NJ5PB';
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
// Vendor credentials with a shape of their own (refused wherever they stand).
const NEW_RELIC_USER = 'NRAK-3QTFF636O5VJ48DZ0JX4HORNX8U';
const NEW_RELIC_LICENSE = 'eu01xxc948abcc1f443b66f4791e8f4991d0NRAL';
const ENTRA_SECRET = 'Xk48Q~3HFsoFrLPEDHXcF5DwO0kSoxzFH.qUZ2JE';
const GITLAB = 'glpat-7ep2FsJ0NobsVWvE5gPO';
const GITHUB_UPPER = 'GHP_JEM2IFOG8CRNICLCA26FOJNBEX6KMEEPUKQJ';
const ELASTIC_PAIR = 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw';
const ELASTIC = Buffer.from(ELASTIC_PAIR).toString('base64');
// Vendor credentials with no shape of their own: a GUID (Splunk HEC) and 32 hex digits (Datadog) are
// also ids, builds and tenants; they are refused only where they are this destination's credential.
const SPLUNK_HEC = '7d1c2f4e-9a3b-4c5d-8e6f-0a1b2c3d4e5f';
const DATADOG_KEY = 'bd8bb95e2bbde72c5f759d4909b6754d';

const CUSTOM_URL = 'https://siem.example.com/ingest';
const SPLUNK_URL = 'https://splunk.example.com:8088/services/collector/event';
const DATADOG_URL = 'https://http-intake.logs.datadoghq.com/api/v2/logs';
const SUMO_URL = 'https://endpoint1.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV2_token';
const SENTINEL_URL = 'https://dce.example.com/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-AegisAudit_CL';
const SENTINEL_AUTH = {
  type: 'oauth2_client_credentials',
  tenant_id: 'contoso.onmicrosoft.com',
  client_id: '11111111-1111-4111-8111-111111111111',
  client_secret: 's3cret~value',
};
const OAUTH = {
  type: 'oauth2_client_credentials',
  token_url: 'https://auth.example.com/oauth2/token',
  client_id: 'aegis-forwarder',
  client_secret: 's3cret~value',
};

interface Case {
  what: string;
  /** The field the refusal names. */
  field: string;
  /** Where the refusal says the credential goes. */
  goes: string;
  secret: string;
  /** A destination this case's field can be set on, valid as it is. */
  base: Record<string, unknown>;
  /** The base with the secret in the field (create) / the PATCH body carrying it. */
  bad: (base: Record<string, unknown>) => Record<string, unknown>;
  /** Reads the field back from a view. */
  read: (view: Record<string, any>) => unknown;
}

const CASES: Case[] = [
  {
    what: 'a GitHub token as auth_header_name',
    field: 'auth_header_name',
    goes: 'auth_header_value',
    secret: GITHUB,
    base: { url: CUSTOM_URL, auth_header_name: 'Authorization', auth_header_value: 'Bearer abcdefgh' },
    bad: () => ({ auth_header_name: GITHUB }),
    read: (v) => v.auth_header_name,
  },
  {
    what: 'a Slack token as the name',
    field: 'name',
    goes: 'auth_header_value',
    secret: SLACK,
    base: { url: CUSTOM_URL, name: 'SOC webhook' },
    bad: () => ({ name: SLACK }),
    read: (v) => v.name,
  },
  {
    what: 'an AWS access key as the Splunk index',
    field: 'options.index',
    goes: 'auth_header_value',
    secret: AWS,
    base: { siem: 'splunk_hec', url: SPLUNK_URL, options: { index: 'main', sourcetype: 'aegis:audit' } },
    bad: () => ({ options: { index: AWS, sourcetype: 'aegis:audit' } }),
    read: (v) => v.options,
  },
  {
    what: 'a JWT as a custom header name',
    field: 'auth_header_name',
    goes: 'auth_header_value',
    secret: JWT,
    base: { url: CUSTOM_URL, auth_header_name: 'X-Api-Key', auth_header_value: 'abcdefgh12345678' },
    bad: () => ({ auth_header_name: JWT }),
    read: (v) => v.auth_header_name,
  },
  {
    what: 'a GitHub token glued into the Datadog tags',
    field: 'options.tags',
    goes: 'auth_header_value',
    secret: GITHUB,
    base: { siem: 'datadog', url: DATADOG_URL, options: { tags: 'env:prod,team:sec' } },
    bad: () => ({ options: { tags: `env:prod,token_${GITHUB}` } }),
    read: (v) => v.options,
  },
  {
    what: 'a JWT as the OAuth2 client_id',
    field: 'auth.client_id',
    goes: 'auth.client_secret',
    secret: JWT,
    base: { url: CUSTOM_URL, auth: OAUTH },
    bad: () => ({ auth: { ...OAUTH, client_id: JWT } }),
    read: (v) => v.auth?.client_id,
  },
  {
    what: 'a New Relic user key as the name',
    field: 'name',
    goes: 'auth_header_value',
    secret: NEW_RELIC_USER,
    base: { url: CUSTOM_URL, name: 'New Relic prod' },
    bad: () => ({ name: `New Relic ${NEW_RELIC_USER}` }),
    read: (v) => v.name,
  },
  {
    what: 'a New Relic license key as the header name',
    field: 'auth_header_name',
    goes: 'auth_header_value',
    secret: NEW_RELIC_LICENSE,
    base: { url: CUSTOM_URL, auth_header_name: 'X-License-Key', auth_header_value: 'abcdefgh12345678' },
    bad: () => ({ auth_header_name: NEW_RELIC_LICENSE }),
    read: (v) => v.auth_header_name,
  },
  {
    what: 'an Entra client secret as the OAuth2 scope',
    field: 'auth.scope',
    goes: 'auth.client_secret',
    secret: ENTRA_SECRET,
    base: { url: CUSTOM_URL, auth: OAUTH },
    bad: () => ({ auth: { ...OAUTH, scope: ENTRA_SECRET } }),
    read: (v) => v.auth?.scope,
  },
  {
    what: 'a GitLab token as the Splunk source',
    field: 'options.source',
    goes: 'auth_header_value',
    secret: GITLAB,
    base: { siem: 'splunk_hec', url: SPLUNK_URL, options: { index: 'main', source: 'aegis' } },
    bad: () => ({ options: { index: 'main', source: `aegis_${GITLAB}` } }),
    read: (v) => v.options,
  },
  {
    what: 'an upper-case GitHub token as the name',
    field: 'name',
    goes: 'auth_header_value',
    secret: GITHUB_UPPER,
    base: { url: CUSTOM_URL, name: 'SOC webhook' },
    bad: () => ({ name: GITHUB_UPPER }),
    read: (v) => v.name,
  },
  {
    what: 'an Elastic API key (base64 of id:key) as the name',
    field: 'name',
    goes: 'auth_header_value',
    secret: ELASTIC,
    base: { url: CUSTOM_URL, name: 'Elastic prod' },
    bad: () => ({ name: `Elastic ${ELASTIC}` }),
    read: (v) => v.name,
  },
];

describe.each(DB_KINDS)('destinations: a credential in a plain field is refused, never stored or echoed (%s)', (kind) => {
  const t = serviceWithOrg(kind);
  const base = () => `/api/orgs/${t.org.orgId}/forwarding-destinations`;
  const call = (method: string, path: string, body?: unknown) => t.svc.request(method, path, { apiKey: t.org.apiKey, ...(body ? { body } : {}) });
  const ids = async (): Promise<string[]> => {
    const res = await call('GET', `${base()}?limit=200`);
    expect(res.status, res.text).toBe(200);
    return (res.body.destinations as { destination_id: string }[]).map((d) => d.destination_id).sort();
  };

  function expectRefused(res: { status: number; body: any; text: string }, c: Case): void {
    expect(res.status, `${c.what}: ${res.text}`).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message.startsWith(`${c.field}: looks like a credential (`), res.body.error.message).toBe(true);
    if (c.goes === 'url') {
      // The SIEM takes its credential in the URL (Sumo Logic): nowhere else to put it.
      expect(res.body.error.message).toContain('the SIEM takes it in the url, and only there');
    } else {
      expect(res.body.error.message).toContain(`put the credential in ${c.goes}`);
      expect(res.body.error.message).toContain('stored encrypted and never shown');
    }
    // Neither the value nor a recognisable piece of it.
    expect(res.text).not.toContain(c.secret);
    expect(res.text).not.toContain(c.secret.slice(5, 20));
  }

  it.each(CASES)('create: $what is a 400 naming the field, and nothing is created', async (c) => {
    const before = await ids();
    const res = await call('POST', base(), { enabled: false, ...c.base, ...c.bad(c.base) });
    expectRefused(res, c);
    expect(await ids()).toEqual(before);
    expect(t.svc.logs.text()).not.toContain(c.secret);
    expect(t.svc.logs.text()).not.toContain(c.secret.slice(5, 20));
  });

  it.each(CASES)('PATCH: $what is a 400 naming the field, and the stored value stays', async (c) => {
    const created = await call('POST', base(), { enabled: false, ...c.base });
    expect(created.status, created.text).toBe(201);
    const path = `${base()}/${created.body.destination_id}`;
    const res = await call('PATCH', path, c.bad(c.base));
    expectRefused(res, c);
    const view = await call('GET', path);
    expect(view.status).toBe(200);
    expect(c.read(view.body)).toEqual(c.read(created.body));
    expect(view.text).not.toContain(c.secret);
    expect(t.svc.logs.text()).not.toContain(c.secret);
    expect(t.svc.logs.text()).not.toContain(c.secret.slice(5, 20));
  });

  it('Microsoft Sentinel: the refusal points to auth.client_secret, its only credential', async () => {
    const res = await call('POST', base(), {
      siem: 'microsoft_sentinel',
      enabled: false,
      name: `Sentinel ${SLACK}`,
      url: 'https://dce.example.com/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-AegisAudit_CL',
      auth: {
        type: 'oauth2_client_credentials',
        tenant_id: 'contoso.onmicrosoft.com',
        client_id: '11111111-1111-4111-8111-111111111111',
        client_secret: 's3cret~value',
      },
    });
    expectRefused(res, { field: 'name', goes: 'auth.client_secret', secret: SLACK } as Case);
  });

  // No false refusal: what people name destinations and set as options, an address included (the
  // organization's own business), goes through on create and on PATCH.
  const ORDINARY: Record<string, unknown>[] = [
    { url: CUSTOM_URL, name: 'Splunk prod – SOC', auth_header_name: 'Authorization', auth_header_value: 'Bearer abcdefgh' },
    { url: CUSTOM_URL, name: 'SOC alerts soc@example.com', auth_header_name: 'X-Api-Key', auth_header_value: 'abcdefgh12345678' },
    { url: CUSTOM_URL, name: 'Webhook (token in header)', auth_header_name: 'X-Auth-Token', auth_header_value: 'abcdefgh12345678' },
    { siem: 'splunk_hec', url: SPLUNK_URL, name: 'Splunk prod', options: { index: 'main', source: 'aegis', sourcetype: 'aegis:audit', host: 'aegis-prod-01' } },
    { siem: 'datadog', url: DATADOG_URL, options: { tags: 'env:prod,team:sec', service: 'aegis-audit-stream', source: 'aegis' } },
    { siem: 'sumo_logic', url: SUMO_URL, options: { category: 'security/aegis', sourceName: 'aegis', sourceHost: 'aegis-prod', fields: 'env=prod,team=sec' } },
    { url: CUSTOM_URL, auth: { ...OAUTH, client_id: '0oa1b2c3d4e5f6g7h8i9', scope: 'logs.write api://siem/.default' } },
    // GUIDs and 32 hex digits that are not this destination's credential: ids, builds, tenants.
    {
      siem: 'microsoft_sentinel',
      url: SENTINEL_URL,
      name: `Sentinel ${SPLUNK_HEC}`,
      auth: { ...SENTINEL_AUTH, tenant_id: '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', client_id: '11111111-1111-4111-8111-111111111111' },
    },
    {
      siem: 'splunk_hec',
      url: SPLUNK_URL,
      name: `Splunk ${SPLUNK_HEC}`,
      auth_header_value: 'Splunk 2c4e6a8b-1d3f-4a5c-9e7b-0f1e2d3c4b5a',
      options: { host: SPLUNK_HEC },
    },
    { siem: 'datadog', url: DATADOG_URL, auth_header_value: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5', options: { tags: `env:prod,commit:${DATADOG_KEY}` } },
    { url: CUSTOM_URL, name: 'By event id', filter: { 'event.id': SPLUNK_HEC, 'aegis.actor_id': { $in: ['svc-forwarder', DATADOG_KEY] } } },
  ];

  it.each(ORDINARY)('accepts ordinary settings on create and PATCH: %o', async (body) => {
    const created = await call('POST', base(), { enabled: false, ...body });
    expect(created.status, created.text).toBe(201);
    const { url: _url, siem: _siem, ...patchable } = body;
    const patched = await call('PATCH', `${base()}/${created.body.destination_id}`, patchable);
    expect(patched.status, patched.text).toBe(200);
    if (body.name !== undefined) expect(patched.body.name).toBe(body.name);
    if (body.options !== undefined) expect(patched.body.options).toEqual(body.options);
  });

  // The request's own credential, or the stored one on PATCH, inside a plain field: refused whatever
  // its shape (a GUID, 32 hex digits, a Sumo Logic path token, an Elastic key's decoded half).
  const OWN: (Case & { body: Record<string, unknown> })[] = [
    {
      what: 'the Splunk HEC token (a GUID) in the name',
      field: 'name',
      goes: 'auth_header_value',
      secret: SPLUNK_HEC,
      body: { siem: 'splunk_hec', url: SPLUNK_URL, name: `Splunk ${SPLUNK_HEC}`, auth_header_value: `Splunk ${SPLUNK_HEC}` },
    },
    {
      what: 'the Datadog API key (32 hex) in the tags',
      field: 'options.tags',
      goes: 'auth_header_value',
      secret: DATADOG_KEY,
      body: { siem: 'datadog', url: DATADOG_URL, auth_header_value: DATADOG_KEY, options: { tags: `env:prod,key:${DATADOG_KEY}` } },
    },
    {
      what: "the Sentinel app's client secret in the name",
      field: 'name',
      goes: 'auth.client_secret',
      secret: 'Zq8vT2xk-Lm9Pw4Rc',
      body: {
        siem: 'microsoft_sentinel',
        url: SENTINEL_URL,
        name: 'Sentinel Zq8vT2xk-Lm9Pw4Rc',
        auth: { ...SENTINEL_AUTH, client_secret: 'Zq8vT2xk-Lm9Pw4Rc' },
      },
    },
    {
      what: "the Sumo Logic URL's token in the source name",
      field: 'options.sourceName',
      goes: 'url',
      secret: 'ZaVnC4dhaV2_token',
      body: { siem: 'sumo_logic', url: SUMO_URL, options: { sourceName: 'aegis ZaVnC4dhaV2_token' } },
    },
    {
      what: "the Elastic key's secret half in the name",
      field: 'name',
      goes: 'auth_header_value',
      secret: 'ui2lp2axTNmsyakw9tvNnw',
      body: { url: CUSTOM_URL, name: 'Elastic ui2lp2axTNmsyakw9tvNnw', auth_header_name: 'Authorization', auth_header_value: `ApiKey ${ELASTIC}` },
    },
    {
      what: 'the Datadog API key in a filter value',
      field: '/filter/aegis.actor_id/$in/1',
      goes: 'auth_header_value',
      secret: DATADOG_KEY,
      body: { siem: 'datadog', url: DATADOG_URL, auth_header_value: DATADOG_KEY, filter: { 'aegis.actor_id': { $in: ['svc', DATADOG_KEY] } } },
    },
  ].map((c) => ({ ...c, base: {}, bad: () => ({}), read: () => null }));

  it.each(OWN)('create: $what is a 400 naming the field, and nothing is created', async (c) => {
    const before = await ids();
    const res = await call('POST', base(), { enabled: false, ...c.body });
    expectRefused(res, c);
    expect(res.body.error.message).toContain("this destination's own credential");
    expect(await ids()).toEqual(before);
    expect(t.svc.logs.text()).not.toContain(c.secret);
  });

  it('PATCH: the stored credential in a new name or filter is refused, and the stored values stay', async () => {
    const created = await call('POST', base(), { siem: 'datadog', url: DATADOG_URL, enabled: false, name: 'Datadog prod', auth_header_value: DATADOG_KEY });
    expect(created.status, created.text).toBe(201);
    const path = `${base()}/${created.body.destination_id}`;
    const c = { field: 'name', goes: 'auth_header_value', secret: DATADOG_KEY } as Case;
    expectRefused(await call('PATCH', path, { name: `Datadog ${DATADOG_KEY}` }), c);
    expectRefused(await call('PATCH', path, { filter: { 'aegis.summary': DATADOG_KEY } }), { ...c, field: '/filter/aegis.summary' });
    // A new credential sent along is compared too.
    expectRefused(
      await call('PATCH', path, { auth_header_value: 'c0ffee00c0ffee00c0ffee00c0ffee00', options: { tags: 'k:c0ffee00c0ffee00c0ffee00c0ffee00' } }),
      {
        ...c,
        field: 'options.tags',
        secret: 'c0ffee00c0ffee00c0ffee00c0ffee00',
      },
    );
    const view = await call('GET', path);
    expect(view.body.name).toBe('Datadog prod');
    expect(view.body.filter).toBeNull();
    expect(view.body.options).toEqual({});
  });

  it('a filter is a plain field: a credential in one of its values is refused on create and PATCH', async () => {
    for (const [filter, field, secret] of [
      [{ 'aegis.actor_id': GITHUB }, '/filter/aegis.actor_id', GITHUB],
      [{ $or: [{ 'aegis.decision': 'BLOCKED' }, { 'aegis.summary': { $in: ['x', NEW_RELIC_USER] } }] }, '/filter/$or/1/aegis.summary/$in/1', NEW_RELIC_USER],
    ] as const) {
      const c = { field, goes: 'auth_header_value', secret } as Case;
      expectRefused(await call('POST', base(), { url: CUSTOM_URL, enabled: false, filter }), c);
      const created = await call('POST', base(), { url: CUSTOM_URL, enabled: false });
      expect(created.status, created.text).toBe(201);
      expectRefused(await call('PATCH', `${base()}/${created.body.destination_id}`, { filter }), c);
    }
  });

  // A row saved before the check (or by an older version) may hold a leaked value. The dashboard sends
  // every field back with each save: a value equal to the stored one is not checked again, so the row
  // can still be renamed or disabled; a new or changed value still is, and nothing is echoed.
  it('PATCH: values equal to the stored ones pass; a changed one is still checked', async () => {
    const created = await call('POST', base(), { siem: 'splunk_hec', url: SPLUNK_URL, enabled: false, name: 'old', options: { index: 'main' } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.destination_id as string;
    const path = `${base()}/${id}`;
    const leakedName = `Splunk ${GITHUB}`;
    const leakedOptions = { index: 'main', source: AWS };
    const leakedFilter = { 'aegis.actor_id': SLACK };
    await t.tdb.db.query('UPDATE destinations SET name = $2, options = $3, filter = $4 WHERE id = $1', [
      id,
      leakedName,
      JSON.stringify(leakedOptions),
      JSON.stringify(leakedFilter),
    ]);
    // The dashboard's save: everything as stored, one thing changed.
    const resent = await call('PATCH', path, { name: leakedName, options: leakedOptions, filter: leakedFilter, enabled: true });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body.enabled).toBe(true);
    // A changed option is checked, and the refusal names it without echoing any value, old or new.
    const changed = await call('PATCH', path, { name: leakedName, options: { ...leakedOptions, sourcetype: JWT }, filter: leakedFilter });
    expectRefused(changed, { field: 'options.sourcetype', goes: 'auth_header_value', secret: JWT } as Case);
    expect(changed.text).not.toContain(GITHUB);
    expect(changed.text).not.toContain(AWS);
    expect(changed.text).not.toContain(SLACK);
    // A changed name is checked whatever the stored one held.
    expectRefused(await call('PATCH', path, { name: `Splunk ${GITLAB}` }), { field: 'name', goes: 'auth_header_value', secret: GITLAB } as Case);
    // And the leaked values can be replaced by clean ones.
    const cleaned = await call('PATCH', path, { name: 'Splunk prod', options: { index: 'main' }, filter: null });
    expect(cleaned.status, cleaned.text).toBe(200);
    expect(cleaned.text).not.toContain(GITHUB);
  });

  // Found by an attacker review of the first version of this check.
  describe('hostile', () => {
    const patchOf = async (body: Record<string, unknown>): Promise<string> => {
      const created = await call('POST', base(), { enabled: false, ...body });
      expect(created.status, created.text).toBe(201);
      return `${base()}/${created.body.destination_id}`;
    };

    // Two PATCHes: the name first (the key is not yet this destination's, and has no shape), then the
    // credential. Without the second check the credential would be shown in clear in the name.
    it.each([
      {
        what: 'a Datadog key',
        create: { siem: 'datadog', url: DATADOG_URL, name: 'Datadog prod' },
        first: { name: `Datadog ${DATADOG_KEY}` },
        second: { auth_header_value: DATADOG_KEY },
        field: 'name',
        goes: 'auth_header_value',
        secret: DATADOG_KEY,
      },
      {
        what: 'a Splunk HEC token, in a filter',
        create: { siem: 'splunk_hec', url: SPLUNK_URL },
        first: { filter: { 'aegis.actor_id': { $in: ['svc', `hec ${SPLUNK_HEC}`] } } },
        second: { auth_header_value: `Splunk ${SPLUNK_HEC}` },
        field: '/filter/aegis.actor_id/$in/1',
        goes: 'auth_header_value',
        secret: SPLUNK_HEC,
      },
      {
        what: 'an OAuth2 client secret',
        create: { url: CUSTOM_URL, auth: OAUTH },
        first: { name: 'oauth Zq8vT2xk-Lm9Pw4Rc' },
        second: { auth: { ...OAUTH, client_secret: 'Zq8vT2xk-Lm9Pw4Rc' } },
        field: 'name',
        goes: 'auth.client_secret',
        secret: 'Zq8vT2xk-Lm9Pw4Rc',
      },
      {
        what: "a new URL's token",
        create: { siem: 'sumo_logic', url: SUMO_URL },
        first: { options: { sourceName: 'aegis Qm7rT2xkLm9Pw4Rc_token' } },
        second: { url: SUMO_URL.replace('ZaVnC4dhaV2_token', 'Qm7rT2xkLm9Pw4Rc_token') },
        field: 'options.sourceName',
        goes: 'url',
        secret: 'Qm7rT2xkLm9Pw4Rc_token',
      },
    ])('PATCH sequence: $what set in a plain field first, then sent as the credential, is refused', async (c) => {
      const path = await patchOf(c.create);
      const first = await call('PATCH', path, c.first);
      expect(first.status, first.text).toBe(200);
      const second = await call('PATCH', path, c.second);
      expectRefused(second, { ...c } as unknown as Case);
      expect(second.body.error.message).toContain("this destination's own credential");
      // Replacing the plain value in the same request is the way through.
      const both = await call('PATCH', path, { ...c.second, name: 'clean', filter: null, options: {} });
      expect(both.status, both.text).toBe(200);
    });

    it('PATCH: a new credential leaves a legacy row editable (unchanged values skip the detectors)', async () => {
      const path = await patchOf({ siem: 'datadog', url: DATADOG_URL, name: 'old' });
      await t.tdb.db.query('UPDATE destinations SET name = $2 WHERE id = $1', [path.split('/').pop(), `Datadog ${GITHUB}`]);
      const res = await call('PATCH', path, { name: `Datadog ${GITHUB}`, auth_header_value: DATADOG_KEY });
      expect(res.status, res.text).toBe(200);
    });

    // A caller with the org's API key must not learn a stored password by guessing it in a filter and
    // reading which pointer the 400 names.
    it('PATCH: a guessable stored password is no oracle; a random stored key still counts', async () => {
      const password = 'Winter2026';
      const path = await patchOf({
        url: CUSTOM_URL,
        auth_header_name: 'Authorization',
        auth_header_value: `Basic ${Buffer.from(`svc:${password}`).toString('base64')}`,
      });
      const guesses = await call('PATCH', path, { filter: { 'aegis.actor_id': { $in: ['Summer2025', password, `svc:${password}`] } } });
      expect(guesses.status, guesses.text).toBe(200);
      const random = await patchOf({ siem: 'datadog', url: DATADOG_URL, auth_header_value: DATADOG_KEY });
      expectRefused(await call('PATCH', random, { filter: { 'aegis.actor_id': { $in: ['x', DATADOG_KEY] } } }), {
        field: '/filter/aegis.actor_id/$in/1',
        goes: 'auth_header_value',
        secret: DATADOG_KEY,
      } as Case);
    });

    // One sealed column that no longer opens (its key left the ring) must not drop the others.
    it('PATCH: an unreadable signing secret does not hide the readable header credential', async () => {
      const path = await patchOf({ url: CUSTOM_URL, signing: true, auth_header_name: 'X-Api-Key', auth_header_value: DATADOG_KEY });
      await t.tdb.db.query("UPDATE destinations SET signing_secret_sealed = decode('00', 'hex') WHERE id = $1", [path.split('/').pop()]);
      expectRefused(await call('PATCH', path, { name: `dd ${DATADOG_KEY}` }), { field: 'name', goes: 'auth_header_value', secret: DATADOG_KEY } as Case);
    });

    it('a fullwidth or zero-width-split copy of the credential is refused', async () => {
      const fullwidth = [...DATADOG_KEY].map((ch) => String.fromCodePoint(ch.codePointAt(0)! + 0xfee0)).join('');
      const split = `${DATADOG_KEY.slice(0, 16)}\u200b${DATADOG_KEY.slice(16)}`;
      for (const name of [fullwidth, split]) {
        const res = await call('POST', base(), { siem: 'datadog', url: DATADOG_URL, enabled: false, name, auth_header_value: DATADOG_KEY });
        expectRefused(res, { field: 'name', goes: 'auth_header_value', secret: DATADOG_KEY } as Case);
      }
    });
  });
});
