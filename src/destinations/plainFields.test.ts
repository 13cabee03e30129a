import { FINDING_TYPES } from '../events/findings.js';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { plainFieldValues, refuseCredentialsInPlainFields, type PlainSettings } from './plainFields.js';

const GITHUB = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5';
const AWS = 'AKIA4Q2RZ7XKHW3NJ5PB';

function refusal(body: PlainSettings, siem: Parameters<typeof refuseCredentialsInPlainFields>[0] = 'custom'): AppError | null {
  try {
    refuseCredentialsInPlainFields(siem, body);
    return null;
  } catch (e) {
    return e as AppError;
  }
}

describe('plain destination fields: credentials refused, never echoed', () => {
  it('lists name, header name, every string option and the non-secret OAuth2 fields', () => {
    expect(
      plainFieldValues({
        name: 'n',
        auth_header_name: 'h',
        options: { index: 'i', indexer_ack: true, max_events_per_second: 5, future_option: 'f' },
        auth: { client_id: 'c', tenant_id: 't', scope: 's' },
      }),
    ).toEqual([
      ['name', 'n'],
      ['auth_header_name', 'h'],
      ['options.index', 'i'],
      ['options.future_option', 'f'],
      ['auth.client_id', 'c'],
      ['auth.tenant_id', 't'],
      ['auth.scope', 's'],
    ]);
    expect(plainFieldValues({ name: null, auth: null })).toEqual([]);
  });

  it.each([
    [{ name: `prod_${GITHUB}` }, 'name', 'GitHub token', 'auth_header_value'],
    [{ options: { host: `${AWS}` } }, 'options.host', 'AWS access key', 'auth_header_value'],
    [{ auth: { scope: `read ${GITHUB}` } }, 'auth.scope', 'GitHub token', 'auth.client_secret'],
    [{ options: { source: 'password=Zq8vT2xkLm9P' } }, 'options.source', 'password', 'auth_header_value'],
  ] as const)('refuses %o naming %s', (body, field, label, goes) => {
    const e = refusal(body);
    expect(e?.code).toBe('validation_failed');
    expect(e?.details?.field).toBe(field);
    expect(e?.message).toBe(`${field}: looks like a credential (${label}): put the credential in ${goes}, which is stored encrypted and never shown`);
    expect(e?.message).not.toContain(GITHUB.slice(4, 20));
    expect(e?.message).not.toContain(AWS.slice(4));
  });

  it('points Microsoft Sentinel to its client secret', () => {
    expect(refusal({ name: GITHUB }, 'microsoft_sentinel')?.message).toContain('put the credential in auth.client_secret');
  });

  it('lets personal data and ordinary settings through', () => {
    for (const body of [
      { name: 'SOC alerts soc@example.com, +1 415 555 0100' },
      { name: 'Splunk prod – SOC', auth_header_name: 'X-Auth-Token' },
      { options: { index: 'main', sourcetype: 'aws:cloudtrail', tags: 'env:prod,team:sec', fields: 'env=prod' } },
      { auth: { client_id: '11111111-1111-4111-8111-111111111111', tenant_id: 'contoso.onmicrosoft.com', scope: 'https://monitor.azure.com//.default' } },
    ]) {
      expect(refusal(body), JSON.stringify(body)).toBeNull();
    }
  });

  it.each([
    ['NRAK-3QTFF636O5VJ48DZ0JX4HORNX8U', 'New Relic key'],
    ['nrak-3qtff636o5vj48dz0jx4hornx8u', 'New Relic key'],
    ['eu01xxc948abcc1f443b66f4791e8f4991d0NRAL', 'New Relic key'],
    ['NRII-Zq8vT2xkLm9Pw4RcN7yBZq8vT2xkLm9P', 'New Relic key'],
    ['Xk48Q~3HFsoFrLPEDHXcF5DwO0kSoxzFH.qUZ2JE', 'Microsoft Entra client secret'],
    ['prod_glpat-7ep2FsJ0NobsVWvE5gPO', 'GitLab token'],
    ['GLPAT-7EP2FSJ0NOBSVWVE5GPO', 'GitLab token'],
    ['GHP_JEM2IFOG8CRNICLCA26FOJNBEX6KMEEPUKQJ', 'GitHub token'],
    ['Github_Pat_11ABCDEFG0abcdefghijklmn_opqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd', 'GitHub token'],
    ['SK_LIVE_4eC39HqLyjWDarjtT1zdp7dc', 'Stripe key'],
    ['HF_ZHjvvNomDOefVEbWSKbwCksFhwnoQRUSWr', 'Hugging Face token'],
    ['NPM_H5O2thvh72XOFEIxSsWoRtk6NndNB8sxZ402', 'npm token'],
    ['SK-ANT-API03-_TXc0Oc0pZ2_saYLlodyWKp2mRqZzUbSyo4IFHKPNAP0ZsIFd7qU8NC5rhsU1PXQd2kicgNNdYGegZA1NlLQ3rA71HO8eAA', 'Anthropic API key'],
    [`es ${Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64')}`, 'Elastic API key'],
    [`elastic${Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64').replace(/=+$/, '')}`, 'Elastic API key'],
  ] as const)('refuses the vendor credential %s on its shape (%s)', (value, label) => {
    const e = refusal({ name: value });
    expect(e?.message).toBe(`name: looks like a credential (${label}): put the credential in auth_header_value, which is stored encrypted and never shown`);
  });

  it('does not refuse a GUID, 32 hex digits or base64 on their shape alone', () => {
    for (const body of [
      { name: 'Splunk 7d1c2f4e-9a3b-4c5d-8e6f-0a1b2c3d4e5f', options: { host: 'BD8BB95E2BBDE72C5F759D4909B6754D' } },
      { auth: { client_id: '7d1c2f4e-9a3b-4c5d-8e6f-0a1b2c3d4e5f', tenant_id: '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a' } },
      { options: { tags: 'commit:bd8bb95e2bbde72c5f759d4909b6754d,release:2026.12' } },
      // Base64 of prose, and a long plain run: no id:key pair inside.
      { name: Buffer.from('the quick brown fox jumps over the lazy dog, twice over').toString('base64') },
      { name: 'aegis-prod-forwarder-europe-west-1-primary-queue-0123456789' },
      // "Q~" not after a digit, "NRAL" inside a longer word, a short "glpat-".
      { name: 'Q~ release abcQ~defghijklmnopqrstuvwxyz0123456789abcdef', options: { index: 'xNRAL', source: 'glpat-short' } },
    ]) {
      expect(refusal(body), JSON.stringify(body)).toBeNull();
    }
  });

  it("refuses the destination's own credential, whatever its shape, and names where it is kept", () => {
    const own = (credentials: [string, string][]) => ({ credentials: () => credentials as never });
    const guid = '7d1c2f4e-9a3b-4c5d-8e6f-0a1b2c3d4e5f';
    const e = (() => {
      try {
        refuseCredentialsInPlainFields('splunk_hec', { options: { index: `idx-${guid.toUpperCase()}` } }, own([['auth_header_value', `Splunk ${guid}`]]));
        return null;
      } catch (err) {
        return err as AppError;
      }
    })();
    expect(e?.message).toBe(
      "options.index: looks like a credential (this destination's own credential): put the credential in auth_header_value, which is stored encrypted and never shown",
    );
    expect(e?.message).not.toContain(guid.slice(0, 8));
    // A Basic pair's user name (an Elastic key's id) is no secret; a part under 8 characters is not looked for.
    const basic = `Basic ${Buffer.from('svc-forwarder:Zq8vT2xkLm9P').toString('base64')}`;
    expect(() => refuseCredentialsInPlainFields('custom', { name: 'svc-forwarder' }, own([['auth_header_value', basic]]))).not.toThrow();
    expect(() => refuseCredentialsInPlainFields('custom', { name: 'pw Zq8vT2xkLm9P' }, own([['auth_header_value', basic]]))).toThrow(/own credential/);
    expect(() => refuseCredentialsInPlainFields('custom', { name: 'prod' }, own([['auth_header_value', 'Bearer prod']]))).not.toThrow();
  });

  // A filters review: a finding type's name in a filter key is any upper-case word, and a credential
  // refused as a value was stored as a key.
  it("a filter key's finding type is checked as a value is: a credential there is refused", () => {
    expect(() => refuseCredentialsInPlainFields('custom', { filter: { [`aegis.finding_counts_by_type.${AWS}`]: { $gte: 1 } } })).toThrow(
      new RegExp(`^/filter/aegis\\.finding_counts_by_type\\.${AWS}: .*AWS access key`),
    );
    const own = 'Bearer ZQ8VT2XKLM9PWR4TYU7IOP3ASD';
    expect(() =>
      refuseCredentialsInPlainFields(
        'custom',
        { filter: { $or: [{ 'aegis.finding_counts_by_type.ZQ8VT2XKLM9PWR4TYU7IOP3ASD': { $gte: 1 } }] } },
        { credentials: () => [['auth_header_value', own]] as never },
      ),
    ).toThrow(/own credential/);
    // Every real finding type passes.
    for (const type of FINDING_TYPES)
      expect(() => refuseCredentialsInPlainFields('custom', { filter: { [`aegis.finding_counts_by_type.${type}`]: { $gte: 1 } } }), type).not.toThrow();
  });

  it('PATCH: checks only values that differ from the stored ones', () => {
    const leaked = `prod ${GITHUB}`;
    const stored = { name: leaked, options: { index: AWS }, filter: { 'aegis.actor_id': GITHUB } };
    expect(refusal(stored)).not.toBeNull();
    expect(() => refuseCredentialsInPlainFields('custom', { ...stored, auth_header_name: 'Authorization' }, { stored })).not.toThrow();
    expect(() => refuseCredentialsInPlainFields('custom', { options: { index: AWS, source: GITHUB } }, { stored })).toThrow(/^options\.source: /);
    expect(() => refuseCredentialsInPlainFields('custom', { filter: { 'aegis.summary': GITHUB } }, { stored })).toThrow(/^\/filter\/aegis\.summary: /);
    // Nothing to check: the stored credentials are not even opened.
    let opened = false;
    refuseCredentialsInPlainFields('custom', stored, {
      stored,
      storedCredentials: () => {
        opened = true;
        return [];
      },
    });
    expect(opened).toBe(false);
  });

  // Found by an attacker review of the first version.
  describe('hostile: sequences, oracles, pairs and spellings', () => {
    const DATADOG = 'bd8bb95e2bbde72c5f759d4909b6754d';
    const GUID = '7d1c2f4e-9a3b-4c5d-8e6f-0a1b2c3d4e5f';
    const sent = (credentials: [string, string][]) => ({ credentials: () => credentials as never });
    const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

    it('a credential sent in a PATCH is checked against the unchanged stored values too', () => {
      // Step 1 stored the key in the name (not yet this destination's); step 2 sends it as the credential.
      const stored = { name: `Datadog ${DATADOG}`, filter: { 'aegis.actor_id': { $in: ['svc', `Splunk HEC ${GUID}`] } } };
      expect(() => refuseCredentialsInPlainFields('datadog', {}, { stored, ...sent([['auth_header_value', DATADOG]]) })).toThrow(/^name: .*own credential/);
      expect(() => refuseCredentialsInPlainFields('datadog', { name: `Datadog ${DATADOG}` }, { stored, ...sent([['auth_header_value', DATADOG]]) })).toThrow(
        /^name: .*own credential/,
      );
      expect(() => refuseCredentialsInPlainFields('splunk_hec', {}, { stored, ...sent([['auth_header_value', `Splunk ${GUID}`]]) })).toThrow(
        /^\/filter\/aegis\.actor_id\/\$in\/1: .*own credential/,
      );
      expect(() => refuseCredentialsInPlainFields('custom', {}, { stored, ...sent([['auth.client_secret', DATADOG]]) })).toThrow(
        /^name: .*put the credential in auth\.client_secret/,
      );
      const url = 'https://endpoint1.collection.sumologic.com/receiver/v1/http/ZaVnC4dhaV2_token';
      expect(() => refuseCredentialsInPlainFields('sumo_logic', {}, { stored: { name: 'aegis ZaVnC4dhaV2_token' }, ...sent([['url', url]]) })).toThrow(
        /^name: .*takes it in the url/,
      );
      // A value the PATCH replaces is not checked: the resulting settings are.
      expect(() =>
        refuseCredentialsInPlainFields('datadog', { name: 'Datadog prod', filter: null }, { stored, ...sent([['auth_header_value', DATADOG]]) }),
      ).not.toThrow();
      // Unchanged values still skip the detectors: a legacy row stays editable with a new credential.
      const legacy = { name: `prod ${GITHUB}`, options: { index: AWS } };
      expect(() => refuseCredentialsInPlainFields('custom', legacy, { stored: legacy, ...sent([['auth_header_value', DATADOG]]) })).not.toThrow();
    });

    it("the destination's own signing secret in a name is refused with advice to remove it, not to move it into a header", () => {
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      let message = '';
      try {
        refuseCredentialsInPlainFields('custom', { name: `hook ${secret}` }, { stored: { name: 'n' }, storedCredentials: () => [['signing secret', secret]] });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^name: looks like a credential \(this destination's signing secret\): remove it/);
      expect(message).not.toContain('auth_header_value');
      expect(message).not.toContain('MfKQ9r8G');
    });

    it('a stored credential that can be guessed is not compared: the refusal is no password oracle', () => {
      for (const credential of [basic('svc:Winter2026'), 'Bearer Winter2026!', basic('service-account-forwarder:abc'), 'ApiKey Summer2025!x']) {
        const stored = { name: 'n' };
        const guesses = { filter: { 'aegis.actor_id': { $in: ['Winter2026', 'Winter2026!', 'svc:Winter2026', 'abc', 'Summer2025!x'] } } };
        expect(
          () => refuseCredentialsInPlainFields('custom', guesses, { stored, storedCredentials: () => [['auth_header_value', credential]] }),
          credential,
        ).not.toThrow();
      }
      // Long random ones still count: a Datadog key, a HEC token, a signing secret, a random password.
      for (const [credential, value] of [
        [DATADOG, DATADOG],
        [`Splunk ${GUID}`, GUID],
        ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        [basic('svc:Zq8vT2xkLm9Pw4Rc'), 'Zq8vT2xkLm9Pw4Rc'],
      ] as const) {
        expect(
          () =>
            refuseCredentialsInPlainFields(
              'custom',
              { name: `x ${value}` },
              { stored: { name: 'n' }, storedCredentials: () => [['auth_header_value', credential]] },
            ),
          credential,
        ).toThrow(/^name: .*own credential/);
      }
      // Sent with the request, a guessable password is still refused (the caller knows it).
      expect(() => refuseCredentialsInPlainFields('custom', { name: 'pw Winter2026' }, sent([['auth_header_value', basic('svc:Winter2026')]]))).toThrow(
        /own credential/,
      );
    });

    it("a pair's first half is dropped unless the second is empty or one character (KEY: or KEY:X)", () => {
      const key = 'Zq8vT2xkLm9Pw4Rc';
      for (const pair of [`${key}:x`, `${key}:`]) {
        expect(() => refuseCredentialsInPlainFields('custom', { name: `k ${key}` }, sent([['auth_header_value', basic(pair)]])), pair).toThrow(
          /own credential/,
        );
      }
      expect(() =>
        refuseCredentialsInPlainFields('custom', { name: 'svc-forwarder' }, sent([['auth_header_value', basic('svc-forwarder:Zq8vT2xkLm9P')]])),
      ).not.toThrow();
      // A short password is still a password: the user name stays a name (a key rotation of a
      // destination named after its service account is no refusal).
      expect(() =>
        refuseCredentialsInPlainFields(
          'custom',
          { name: 'aegis-forwarder to SIEM' },
          { stored: { name: 'aegis-forwarder to SIEM' }, ...sent([['auth_header_value', basic('aegis-forwarder:pw1234')]]) },
        ),
      ).not.toThrow();
    });

    it('a scheme word is no credential: a name carrying it stays when the token behind it is rotated', () => {
      const stored = { name: 'GenieKey alerts' };
      const rotated = sent([['auth_header_value', 'GenieKey 3f1c2b7a-9d4e-4a61-8c2f-7b5e1d0a9c34']]);
      expect(() => refuseCredentialsInPlainFields('custom', { name: 'GenieKey alerts' }, { stored, ...rotated })).not.toThrow();
      expect(() => refuseCredentialsInPlainFields('custom', { name: 'x 3f1c2b7a-9d4e-4a61-8c2f-7b5e1d0a9c34' }, { stored, ...rotated })).toThrow(
        /own credential/,
      );
    });

    it("a new URL's short or word-like parts are looked for in new or changed values only", () => {
      const stored = { name: 'tenant42prod' };
      const moved = sent([['url', 'https://new.example.com/hooks/tenant42prod']]);
      expect(() => refuseCredentialsInPlainFields('custom', { name: 'tenant42prod' }, { stored, ...moved })).not.toThrow();
      expect(() => refuseCredentialsInPlainFields('custom', { name: 'ingest tenant42prod' }, { stored, ...moved })).toThrow(/takes it in the url/);
    });

    it('a fullwidth or zero-width-split copy of the credential is caught', () => {
      const fullwidth = [...DATADOG].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join('');
      const split = `${DATADOG.slice(0, 10)}\u200b${DATADOG.slice(10, 20)}\u2060${DATADOG.slice(20)}`;
      for (const name of [fullwidth, split, `DD ${DATADOG.toUpperCase()}`]) {
        expect(() => refuseCredentialsInPlainFields('datadog', { name }, sent([['auth_header_value', DATADOG]])), name).toThrow(/^name: .*own credential/);
      }
      // The privacy guard's own canonical spelling: an escape reads as its character.
      const escaped = `HEC ${GUID.replace(/-/g, '%2D')}`;
      expect(() => refuseCredentialsInPlainFields('splunk_hec', { name: escaped }, sent([['auth_header_value', `Splunk ${GUID}`]]))).toThrow(
        /^name: .*own credential/,
      );
      // And the same spelled the other way round, in the credential.
      expect(() => refuseCredentialsInPlainFields('datadog', { name: DATADOG }, sent([['auth_header_value', fullwidth]]))).toThrow(/^name: .*own credential/);
    });
  });
});
