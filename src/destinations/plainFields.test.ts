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
});
