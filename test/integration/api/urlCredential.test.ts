import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { startReceiver, type Receiver } from '../../support/httpsReceiver.js';

// Some receivers take their credential in the URL and nowhere else: Sumo Logic's HTTP source token is
// its last path segment, webhooks take ?token= or ?code=, chat hooks a path secret. Every read of the
// destination (and of the alert webhook) returned that URL whole, though a credential is never
// returned after creation (README). Reads now show the credential as [redacted]; the URL sent back as
// shown keeps the stored one, and a URL edited around the mask is refused.

const TOKEN = 'QUERYSECRETabc123456Zq8v';
const SUMO_TOKEN = 'ZaVnC4dhaV3YQmZ2ZmMTIzNDU2Nzg5MA==';

describe.each(DB_KINDS)("a credential in a destination's URL (%s)", (kind) => {
  const ctx = serviceWithOrg(kind);
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  const base = () => `/api/orgs/${ctx.org.orgId}/forwarding-destinations`;
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', path: string, body?: unknown) =>
    ctx.svc.request(method, path, { apiKey: ctx.org.apiKey, ...(body === undefined ? {} : { body }) });

  it('is shown as [redacted] on create and every read, never in clear', async () => {
    const created = await call('POST', base(), { url: `${receiver.url}/ingest?token=${TOKEN}&index=main`, name: 'hook' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.url).toBe(`${receiver.url}/ingest?token=[redacted]&index=main`);
    const id = created.body.destination_id as string;
    for (const res of [await call('GET', `${base()}/${id}`), await call('GET', base()), await call('GET', `${base()}?limit=1`)]) {
      expect(res.status, res.text).toBe(200);
      expect(res.text).not.toContain(TOKEN);
    }
    expect((await call('GET', `${base()}/${id}`)).body.url).toBe(`${receiver.url}/ingest?token=[redacted]&index=main`);

    // A Sumo Logic source's token, its path's last segment.
    const sumo = await call('POST', base(), { siem: 'sumo_logic', url: `https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/${SUMO_TOKEN}` });
    expect(sumo.status, sumo.text).toBe(201);
    expect(sumo.body.url).toBe('https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/[redacted]');
    expect((await call('GET', base())).text).not.toContain(SUMO_TOKEN.slice(0, 12));
  });

  it("masks a parameter named by its secret and a value URLSearchParams decodes its own way (a review's)", async () => {
    for (const [url, hidden] of [
      [`${receiver.url}/in?3f9a8b7c6d5e4f2a1b0c=`, '3f9a8b7c6d5e4f2a1b0c'],
      [`${receiver.url}/in?token=%E9abcd1234wxyz`, 'abcd1234wxyz'],
      [`${receiver.url}/in?token=%41%zz1234abcdef`, '1234abcdef'],
    ] as const) {
      const created = await call('POST', base(), { url });
      expect(created.status, created.text).toBe(201);
      expect(created.body.url, url).toContain('[redacted]');
      expect(created.text, url).not.toContain(hidden);
    }
  });

  it("shows Microsoft Sentinel's URL whole: no credential is in it, and its stream and rule ids are settings", async () => {
    const url = 'https://my-dce-x1y2.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0a1b2c3d4e5f60718293a4b5c6d7e8f9/streams/Custom-App1Logs2_CL';
    const created = await call('POST', base(), {
      siem: 'microsoft_sentinel',
      enabled: false,
      url,
      auth: {
        type: 'oauth2_client_credentials',
        tenant_id: 'contoso.onmicrosoft.com',
        client_id: '11111111-1111-4111-8111-111111111111',
        client_secret: 's3cret~value',
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.url).toContain('/streams/Custom-App1Logs2_CL');
    expect(created.body.url).not.toContain('[redacted]');
  });

  it("compares a stored URL's guessable credential with no new value: the mask would otherwise tell a guess (a review's)", async () => {
    const created = await call('POST', base(), { url: `${receiver.url}/in?password=Winter2026` });
    expect(created.body.url).toContain('password=[redacted]');
    const guesses = await call('PATCH', `${base()}/${created.body.destination_id as string}`, {
      filter: { 'aegis.actor_id': { $in: ['Summer2025', 'Winter2026', 'Spring2024'] } },
    });
    expect(guesses.status, guesses.text).toBe(200);
  });

  it('sent back as shown keeps the stored URL: deliveries still carry the credential', async () => {
    const created = await call('POST', base(), { url: `${receiver.url}/keep?token=${TOKEN}` });
    const id = created.body.destination_id as string;
    // As the dashboard saves: every field sent back, the URL as shown.
    const saved = await call('PATCH', `${base()}/${id}`, { url: created.body.url, name: 'renamed' });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body.name).toBe('renamed');
    // A client that percent-encodes the mask's brackets as it rebuilds the query sends the same URL.
    const encoded = await call('PATCH', `${base()}/${id}`, { url: (created.body.url as string).replace('[redacted]', '%5Bredacted%5D'), enabled: true });
    expect(encoded.status, encoded.text).toBe(200);
    const test = await call('POST', `${base()}/${id}/test`);
    expect(test.body.ok, test.text).toBe(true);
    expect(receiver.requests.at(-1)!.path).toBe(`/keep?token=${TOKEN}`);
  });

  it('edited around the mask, or created with it, is refused naming the field: the credential would be lost', async () => {
    const created = await call('POST', base(), { url: `${receiver.url}/edit?token=${TOKEN}` });
    const id = created.body.destination_id as string;
    const edited = await call('PATCH', `${base()}/${id}`, { url: `${receiver.url}/other?token=[redacted]` });
    expect(edited.status, edited.text).toBe(400);
    expect(edited.body.error.message).toMatch(/^url: holds \[redacted\]/);
    const encoded = await call('POST', base(), { url: `${receiver.url}/x?token=%5Bredacted%5D` });
    expect(encoded.status, encoded.text).toBe(400);
    expect(encoded.body.error.message).toMatch(/^url: holds \[redacted\]/);
    // Another placeholder over the mask would have been stored as the credential while reads still
    // showed [redacted] (an attacker review): each is refused as the mask is.
    for (const placeholder of ['REDACTED', '<redacted>', '[ redacted ]', '[hidden]', '{redacted}', '%3Credacted%3E', '****']) {
      const res = await call('PATCH', `${base()}/${id}`, { url: `${receiver.url}/edit?token=${placeholder}` });
      expect(res.status, `${placeholder}: ${res.text}`).toBe(400);
      expect(res.body.error.message).toMatch(/^url: holds \[redacted\], or another placeholder/);
    }
    // Where shownUrl may mask, a bracketed placeholder or stars: an inner segment, any query value.
    for (const url of [`${receiver.url}/in/***/events`, `${receiver.url}/ingest?k=[REDACTED]`, `${receiver.url}/in;token=<redacted>`]) {
      const res = await call('POST', base(), { url });
      expect(res.status, `${url}: ${res.text}`).toBe(400);
    }
    // Only where a credential goes: a setting or a path's word that reads like one is no placeholder.
    for (const url of [`${receiver.url}/redacted/_bulk`, `${receiver.url}/collector?index=redacted&token=${TOKEN}`]) {
      const res = await call('POST', base(), { url });
      expect(res.status, `${url}: ${res.text}`).toBe(201);
    }
    // The mask in capitals, sent back over the URL as shown, keeps the stored credential.
    const capitals = await call('PATCH', `${base()}/${id}`, { url: `${receiver.url}/edit?token=[REDACTED]` });
    expect(capitals.status, capitals.text).toBe(200);
    expect((await call('POST', `${base()}/${id}/test`)).body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.path).toBe(`/edit?token=${TOKEN}`);
    // A new credential in its place is taken.
    const replaced = await call('PATCH', `${base()}/${id}`, { url: `${receiver.url}/edit?token=NEWSECRETxyz987654` });
    expect(replaced.status, replaced.text).toBe(200);
    expect((await call('POST', `${base()}/${id}/test`)).body.ok).toBe(true);
    expect(receiver.requests.at(-1)!.path).toBe('/edit?token=NEWSECRETxyz987654');
  });

  it("the alert webhook's URL: masked on read, kept when sent back as shown, refused when edited around the mask", async () => {
    const settings = `/api/orgs/${ctx.org.orgId}/notification-settings`;
    const put = await call('PUT', settings, { emails: [], webhook_url: `${receiver.url}/alerts/${TOKEN}` });
    expect(put.status, put.text).toBe(200);
    expect(put.body.webhook_url).toBe(`${receiver.url}/alerts/[redacted]`);
    const read = await call('GET', settings);
    expect(read.text).not.toContain(TOKEN);
    const again = await call('PUT', settings, { emails: [], webhook_url: read.body.webhook_url });
    expect(again.status, again.text).toBe(200);
    const row = await ctx.tdb.db.query<{ webhook_url: string }>('SELECT webhook_url FROM notification_settings WHERE org_id = $1', [ctx.org.orgId]);
    expect(row.rows[0]!.webhook_url).toBe(`${receiver.url}/alerts/${TOKEN}`);
    // The mask in capitals, sent back, keeps the stored URL too (a review found it stored as the URL).
    const capitals = await call('PUT', settings, { emails: [], webhook_url: (read.body.webhook_url as string).replace('[redacted]', '[REDACTED]') });
    expect(capitals.status, capitals.text).toBe(200);
    const kept = await ctx.tdb.db.query<{ webhook_url: string }>('SELECT webhook_url FROM notification_settings WHERE org_id = $1', [ctx.org.orgId]);
    expect(kept.rows[0]!.webhook_url).toBe(`${receiver.url}/alerts/${TOKEN}`);
    const edited = await call('PUT', settings, { emails: [], webhook_url: `${receiver.url}/other/[redacted]` });
    expect(edited.status, edited.text).toBe(400);
    expect(edited.text).toContain('holds [redacted]');
  });
});
