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

const CUSTOM_URL = 'https://siem.example.com/ingest';
const SPLUNK_URL = 'https://splunk.example.com:8088/services/collector/event';
const DATADOG_URL = 'https://http-intake.logs.datadoghq.com/api/v2/logs';
const SUMO_URL = 'https://endpoint1.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV2_token';
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
    expect(res.body.error.message).toMatch(new RegExp(`^${c.field.replace('.', '\\.')}: looks like a credential \\(`));
    expect(res.body.error.message).toContain(`put the credential in ${c.goes}`);
    expect(res.body.error.message).toContain('stored encrypted and never shown');
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
});
