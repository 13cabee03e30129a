import { describe, expect, it } from 'vitest';
import { resetConnection, startReceiver, TEST_CA_PEM, unaskedContinue } from '../../../test/support/httpsReceiver.js';
import { createOutboundClient } from '../outbound/client.js';
import {
  DEFAULT_EXPIRES_IN_S,
  MAX_EXPIRES_IN_S,
  MAX_TOKEN_LENGTH,
  MIN_EXPIRES_IN_S,
  describeTokenError,
  refusalToRead,
  requestToken,
  tokenRequest,
  type OAuth2ClientCredentials,
} from './tokenRequest.js';

const cfg: OAuth2ClientCredentials = {
  tokenUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
  clientId: 'my client',
  clientSecret: 'p@ss:w+rd~/',
  scope: 'https://monitor.azure.com//.default',
  authMethod: 'client_secret_post',
};

describe('tokenRequest', () => {
  it('client_secret_post: the credentials and scope in the form body, as MSAL sends them to Entra ID', () => {
    const { body, headers } = tokenRequest(cfg);
    const form = new URLSearchParams(body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'my client',
      client_secret: 'p@ss:w+rd~/',
      scope: 'https://monitor.azure.com//.default',
    });
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded;charset=utf-8');
    expect(headers['authorization']).toBeUndefined();
  });

  it('client_secret_basic: form-encoded id and secret in HTTP Basic (RFC 6749 2.3.1), none in the body', () => {
    const { body, headers } = tokenRequest({ ...cfg, authMethod: 'client_secret_basic', scope: null });
    expect(body).toBe('grant_type=client_credentials');
    const decoded = Buffer.from(headers['authorization']!.replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(decoded).toBe('my+client:p%40ss%3Aw%2Brd~%2F');
    const [id, secret] = decoded.split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
    expect([id, secret]).toEqual(['my client', 'p@ss:w+rd~/']);
  });
});

describe('describeTokenError', () => {
  const entra = (code: number, error = 'invalid_client') =>
    JSON.stringify({ error, error_description: `AADSTS${code}: Something.\r\nTrace ID: 1`, error_codes: [code] });

  it.each([
    [7000215, /check the client secret.*Value, not its Secret ID/],
    [7000222, /expired/],
    [700016, /check the client id/],
    [90002, /check the tenant id/],
    [70011, /scope/],
  ])('turns AADSTS%s into an action', (code, re) => {
    expect(describeTokenError(401, entra(code))).toMatch(re);
  });

  it('falls back on the OAuth2 error code, then on the status', () => {
    expect(describeTokenError(401, '{"error":"invalid_client","error_description":"client authentication failed"}')).toMatch(
      /refused the client credentials \(invalid_client: client authentication failed\): check the client id and the client secret/,
    );
    expect(describeTokenError(400, '{"error":"unauthorized_client"}')).toMatch(/client_credentials grant/);
    expect(describeTokenError(404, 'Not Found')).toMatch(/check the token URL/);
    expect(describeTokenError(503, '')).toMatch(/server error.*retry/);
    expect(describeTokenError(302, '')).toMatch(/redirects/);
  });

  it('quotes the error only when it is an RFC 6749 error code: not lines of its own, not kilobytes', () => {
    const injected = 'invalid_client\r\n\r\n  What to do: e-mail your API key to help@evil.example\r\n';
    for (const error of [injected, `invalid_client${'A'.repeat(60_000)}`, 'invalid\u2028client', 'say "hi"', 'back\\slash', 'é']) {
      for (const status of [400, 401, 404, 429, 503, 418]) {
        const sentence = describeTokenError(status, JSON.stringify({ error, error_description: 'first line\r\nsecond line' }));
        expect(sentence).toMatch(/unreadable error code: first line\)/);
        expect(sentence).not.toMatch(/[\r\n\u2028]|evil\.example|AAAA|second line/);
        expect(sentence.length).toBeLessThanOrEqual(300);
      }
    }
    // A readable code is quoted, and its advice given, as before.
    expect(describeTokenError(400, JSON.stringify({ error: 'invalid_scope' }))).toBe('The token endpoint refused the scope (invalid_scope): check the scope.');
  });
});

describe('requestToken against a token endpoint whose error is huge and multi-line', () => {
  it('fails with one bounded line, whatever the endpoint said', async () => {
    const error = `invalid_client\r\nWhat to do: call us\r\n${'x'.repeat(60_000)}`;
    const description = `${'d'.repeat(200)}\r\nsecond`;
    const endpoint = await startReceiver(() => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error, error_description: description }),
    }));
    try {
      const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
      const r = await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/^OAuth2 token request to 127\.0\.0\.1:\d+ failed: The token endpoint answered HTTP 400 \(an unreadable error code: d+…\)/);
        expect(r.error).not.toMatch(/[\r\n]|call us/);
        expect(r.error.length).toBeLessThanOrEqual(300);
      }
    } finally {
      await endpoint.close();
    }
  });
});

// A refusal is scrubbed on the worker's loop for every request while the endpoint refuses: only the
// parts describeTokenError reads, each bounded, whatever the endpoint pads it with (a review's
// endpoint put 64 KiB in error_codes, which were passed through whole).
describe('refusalToRead', () => {
  const refusal = (body: string) => ({ kind: 'response' as const, status: 401, headers: {}, body, durationMs: 1 });
  const pad = 'k9Fz2QmX7pLw%0A&#x34;'.repeat(3300);

  it('keeps of a JSON refusal error, error_description and numeric error_codes, each bounded', () => {
    const read = refusalToRead(
      refusal(
        JSON.stringify({
          error: `invalid_client${pad}`,
          error_description: `AADSTS7000215 ${pad}`,
          error_codes: [pad, 7000215, { x: pad }, 50012],
          other: pad,
        }),
      ),
    );
    if (read.kind !== 'response') throw new Error('unreachable');
    expect(read.body.length).toBeLessThan(2200);
    const parsed = JSON.parse(read.body) as Record<string, unknown>;
    expect(parsed.error_codes).toEqual([7000215, 50012]);
    expect(String(parsed.error)).toMatch(/^invalid_client/);
    expect(describeTokenError(401, read.body)).toMatch(/AADSTS7000215/);
  });

  it('keeps the start of anything else, marked cut', () => {
    const read = refusalToRead(refusal(`<html>${pad}</html>`));
    expect(read).toMatchObject({ truncated: true });
    if (read.kind === 'response') expect(read.body).toBe(`<html>${pad}`.slice(0, 4096));
  });
});

describe('requestToken against a token endpoint with absurd lifetimes', () => {
  it('trusts expires_in only between one minute and one day', async () => {
    let expiresIn: unknown = 0;
    const endpoint = await startReceiver(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: 'eyJ.token.sig', token_type: 'Bearer', expires_in: expiresIn }),
    }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const lifetime = async (v: unknown) => {
        expiresIn = v;
        const r = await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` });
        if (!r.ok) throw new Error(r.error);
        return r.expiresInS;
      };
      expect(await lifetime(0.01)).toBe(MIN_EXPIRES_IN_S);
      expect(await lifetime(1e12)).toBe(MAX_EXPIRES_IN_S);
      expect(await lifetime(3599)).toBe(3599);
      expect(await lifetime('3599')).toBe(3599);
      expect(await lifetime(-5)).toBe(DEFAULT_EXPIRES_IN_S);
      expect(await lifetime('soon')).toBe(DEFAULT_EXPIRES_IN_S);
    } finally {
      await client.close();
      await endpoint.close();
    }
  });

  it('refuses an access token longer than a header should carry, saying how long it was', async () => {
    let token = '';
    const endpoint = await startReceiver(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      token = 'a'.repeat(MAX_TOKEN_LENGTH);
      expect(await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` })).toMatchObject({ ok: true, token });
      token = 'a'.repeat(MAX_TOKEN_LENGTH + 1);
      const r = await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/access_token is 16,385 characters long, over the 16,384/);
        expect(r.error).not.toContain('a'.repeat(20));
      }
    } finally {
      await client.close();
      await endpoint.close();
    }
  });
});

describe('requestToken against a token endpoint that quotes the client secret', () => {
  it('scrubs the secret before clipping the description: no start of it survives the clip', async () => {
    const secret = 'Zq8~vWd.e3_Kp9Lm-Xy4T0kEn.4AaBbCcDd';
    // The description is clipped at 120 characters, which falls 20 characters into the secret.
    const description = `${'x'.repeat(100)} ${secret} was refused`;
    const endpoint = await startReceiver(() => ({
      status: 401,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_client', error_description: description }),
    }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const r = await requestToken(client, { ...cfg, clientSecret: secret, tokenUrl: `${endpoint.url}/token` });
      if (r.ok) throw new Error('expected the token request to fail');
      expect(r.error).toContain('[redacted]');
      expect(r.error).not.toContain(secret.slice(0, 6));
    } finally {
      await client.close();
      await endpoint.close();
    }
  });

  it("scrubs the secret from a 2xx answer's token_type before clipping it", async () => {
    // 40 characters: clipped at 20 first, 19 of them survived the scrub the whole sentence got later.
    const secret = 'Zq8vWd3eKp9LmXy4T0kEn4AaBbCcDdEeFfGgHhIi';
    const endpoint = await startReceiver(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: 'eyJ.token.sig', token_type: secret, expires_in: 3600 }),
    }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      for (const authMethod of ['client_secret_post', 'client_secret_basic'] as const) {
        const r = await requestToken(client, { ...cfg, authMethod, clientSecret: secret, tokenUrl: `${endpoint.url}/token` });
        if (r.ok) throw new Error('expected the token request to fail');
        expect(r.error).toMatch(/issued a \[redacted\] token; Aegis sends Bearer tokens only/);
        expect(r.error).not.toContain(secret.slice(0, 6));
      }
    } finally {
      await client.close();
      await endpoint.close();
    }
  });
});

describe("requestToken against a token endpoint that quotes the token URL's own secret", () => {
  it('scrubs a ?code= in the token URL (a token proxy on Azure Functions) from the sentence, before the clip', async () => {
    const code = 'Zx9Qw2LmPp1Ab9Cd3Ef';
    const endpoint = await startReceiver((req) => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_request', error_description: `POST ${req.path} not allowed` }),
    }));
    // The description is clipped at 120 characters: with this one it falls 9 characters into the code.
    const longEndpoint = await startReceiver((req) => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_request', error_description: `${'x'.repeat(92)} POST ${req.path} not allowed` }),
    }));
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      for (const url of [endpoint.url, longEndpoint.url]) {
        for (const authMethod of ['client_secret_post', 'client_secret_basic'] as const) {
          const r = await requestToken(client, { ...cfg, authMethod, tokenUrl: `${url}/token?code=${code}` });
          if (r.ok) throw new Error('expected the token request to fail');
          expect(r.error).toMatch(/^OAuth2 token request to 127\.0\.0\.1:\d+ failed: .*invalid_request/);
          expect(r.error).toMatch(/\?code=\[redact/);
          expect(r.error).not.toContain(code.slice(0, 6));
        }
      }
    } finally {
      await client.close();
      await endpoint.close();
      await longEndpoint.close();
    }
  });
});

describe('requestToken against a token endpoint behind a proxy that answers an unasked 100 Continue', () => {
  it('says the answer was not valid HTTP, of the token endpoint: no SIEM named, no retry promised', async () => {
    const endpoint = await startReceiver(unaskedContinue());
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const r = await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` });
      if (r.ok) throw new Error('expected the token request to fail');
      expect(r.error).toMatch(/^OAuth2 token request to .* failed: .*not a valid HTTP response/);
      expect(r.error).not.toMatch(/SIEM/);
      expect(r.error).not.toMatch(/retry/i);
    } finally {
      await client.close();
      await endpoint.close();
    }
  });
});

describe('requestToken against a token endpoint that resets the connection', () => {
  it('says the token endpoint closed it, not the SIEM', async () => {
    const endpoint = await startReceiver(resetConnection());
    const client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    try {
      const r = await requestToken(client, { ...cfg, tokenUrl: `${endpoint.url}/token` });
      if (r.ok) throw new Error('expected the token request to fail');
      expect(r.error).toMatch(/^OAuth2 token request to .* failed: Connection reset: the token endpoint or a proxy closed the connection/);
      expect(r.error).not.toMatch(/SIEM/);
    } finally {
      await client.close();
      await endpoint.close();
    }
  });
});
