// Sumo Logic's X-Sumo-* options are sent as HTTP header values. A value HTTP cannot carry (a
// character above U+00FF makes Node refuse the request; U+0080-U+00FF go out as Latin-1 bytes a
// UTF-8 reader mangles; CR/LF and other controls) is refused when set, naming the option, rather than
// accepted and then failing or vanishing on every delivery.
import { describe, expect, it } from 'vitest';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';

// (NUL is refused earlier, for every field, as text that cannot be stored: see storableText.ts.)
const UNSENDABLE = ['sécurité', 'security/\u0100egis', 'team \u{1F512}', 'a\r\nX-Evil: 1', 'a\u0085b', 'a\u007fb', 'a\u001bb'];
const KEYS = ['category', 'sourceName', 'sourceHost', 'fields'] as const;

describe('Sumo Logic header options: refused at create and PATCH when HTTP cannot carry them', () => {
  const t = serviceWithOrg();

  const base = () => `/api/orgs/${t.org.orgId}/forwarding-destinations`;
  const url = 'https://endpoint1.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV2_token';
  const call = (method: string, path: string, body: unknown) => t.svc.request(method, path, { apiKey: t.org.apiKey, body });

  it('POST: each unsendable value is a 400 naming the option', async () => {
    for (const key of KEYS) {
      for (const value of UNSENDABLE) {
        const res = await call('POST', base(), { siem: 'sumo_logic', url, enabled: false, options: { [key]: value } });
        expect(res.status, `${key}=${JSON.stringify(value)}: ${res.text}`).toBe(400);
        expect(res.body.error.message).toMatch(new RegExp(`^options\\.${key}: .*header`));
      }
    }
  });

  it('PATCH: the same values are refused, and the stored options stay as they were', async () => {
    const created = await call('POST', base(), { siem: 'sumo_logic', url, enabled: false, options: { category: 'security/aegis', fields: 'env=prod' } });
    expect(created.status, created.text).toBe(201);
    const path = `${base()}/${created.body.destination_id}`;
    for (const key of KEYS) {
      for (const value of UNSENDABLE) {
        const res = await call('PATCH', path, { options: { category: 'security/aegis', [key]: value } });
        expect(res.status, `${key}=${JSON.stringify(value)}: ${res.text}`).toBe(400);
        expect(res.body.error.message).toMatch(new RegExp(`^options\\.${key}: `));
      }
    }
    const view = await t.svc.request('GET', path, { apiKey: t.org.apiKey });
    expect(view.body.options).toEqual({ category: 'security/aegis', fields: 'env=prod' });
  });
});
