/**
 * Secrets a review found forwarded by the agent-record guard under another spelling: a vendor token
 * of no type of its own, a known token with a look-alike letter or another separator in its prefix or
 * its groups, a secret glued to its name in an identifier ("db_password_Zq8vT2xk9"), a short random
 * value under a secret's name in a summary, and the password's name spelled otherwise. Beside each,
 * the ordinary audit text of the same shape that must still pass.
 */
import { describe, expect, it } from 'vitest';
import { guardAgentRecord, secretTypesIn } from './privacyGuard.js';
import { guardRecord } from '../../test/support/guardRecord.js';
import { VENDOR_TOKENS } from '../../test/support/fakeKeys.js';

const record = guardRecord;

/** The paths refused for the record with `field` set to `value` (a finding type name: its key). */
function refused(field: string, value: string): string[] {
  const r = field === 'finding_counts_by_type' ? { ...record, finding_counts_by_type: { [value]: 1 } } : { ...record, [field]: value };
  const v = guardAgentRecord(r);
  for (const x of v) expect(x.message).not.toContain(value);
  return v.map((x) => x.path);
}

// An attacker's review: a prefix the guard spaces out ("EAA", "LTAI", "AKID") inside another token's
// random body cut that token in two, and it passed in every field and in a destination's name.
describe("a token whose body holds another token's prefix", () => {
  it.each([
    ['npm', 'npm_aB3dE5gH7jK9mNEAAsT5vW7yZ9bC1dF3hJ5x'],
    ['Hugging Face', 'hf_aBcDeFgHiJkLmNoPqEAArStUvWxYzAbCdE'],
    ['Aegis API', 'aeg_xR9QNYWanrLUPwf8pQBFEAAiuIproTAqVyit70HpYfA'],
    ['npm, another prefix', 'npm_aB3dE5gH7jK9mNLTAIsT5vW7yZ9bC1dF3hJ5'],
  ])('refuses the %s token in a policy id and a summary, and a destination name holding it', (_name, token) => {
    expect(refused('policy_id', token)).toEqual(['/policy_id']);
    expect(refused('summary', `Blocked ${token}`)).toEqual(['/summary']);
    expect(secretTypesIn(`ci ${token}`).length).toBeGreaterThan(0);
  });
});

// A review's: a token's claims without its signature, as Envoy's x-jwt-payload and Kong's
// X-Userinfo carry them, base64 of a JSON object holding an e-mail address.
describe('a JSON object in base64', () => {
  const claims = (o: object, encoding: 'base64' | 'base64url') => Buffer.from(JSON.stringify(o)).toString(encoding);
  it.each(['base64', 'base64url'] as const)('refuses one holding an address in an actor_id and a summary (%s)', (encoding) => {
    const payload = claims({ sub: '248289761001', email: 'jane.doe@example.com', name: 'Jane Doe' }, encoding);
    expect(refused('actor_id', payload)).toEqual(['/actor_id']);
    expect(refused('summary', `Blocked ${payload}`)).toEqual(['/summary']);
    expect(refused('policy_id', `pol_${claims({ ssn: '123-45-6789' }, encoding)}`)).toEqual(['/policy_id']);
    // Pretty-printed or spaced JSON starts otherwise ("ewog", "eyAi"): a maintainer's read.
    const address = { sub: '248289761001', email: 'jane.doe@example.com' };
    for (const text of [JSON.stringify(address, null, 2), '{ "sub": "1", "email": "jane.doe@example.com" }'])
      expect(refused('actor_id', Buffer.from(text).toString(encoding)), text).toEqual(['/actor_id']);
  });

  it('accepts one holding ids and settings only, and base64 that is no JSON object', () => {
    expect(refused('actor_id', claims({ sub: '248289761001', iss: 'https://idp.example', exp: 1767225600 }, 'base64url'))).toEqual([]);
    expect(refused('summary', `Masked EMAIL in ${claims({ type: 'EMAIL', count: 2 }, 'base64')}`)).toEqual([]);
    expect(refused('policy_id', 'pol_eyJhbGciOiJub25lIn0')).toEqual([]);
  });
});

describe('vendor tokens', () => {
  it.each(VENDOR_TOKENS)('refuses a %s token in a summary, a policy id and an actor_id local part', (_name, token) => {
    expect(refused('summary', `Blocked ${token} today`)).toEqual(['/summary']);
    expect(refused('policy_id', token)).toEqual(['/policy_id']);
    expect(refused('policy_id', `pol_${token}`)).toEqual(['/policy_id']);
    expect(refused('actor_id', `${token}@example.com`).length).toBeGreaterThan(0);
  });
});

const GITHUB = 'ghp_8hfqEnMCxKJ9UlB8VGFHKGNZv9nxgrBAbtus';
const GITHUB_BODY = GITHUB.slice(4);

describe('known tokens with a changed prefix', () => {
  it.each([
    ['a Cyrillic р in the prefix', `gh\u0440_${GITHUB_BODY}`, 'GITHUB_TOKEN'],
    ['a Greek ρ in the prefix', `gh\u03C1_${GITHUB_BODY}`, 'GITHUB_TOKEN'],
    ['"-" for "_"', `ghp-${GITHUB_BODY}`, 'GITHUB_TOKEN'],
    ['"." for "_"', `ghp.${GITHUB_BODY}`, 'GITHUB_TOKEN'],
    ['a Cyrillic А starting an AWS key id', '\u0410KIAIOSFODNN7XAMPLE2', 'AWS_ACCESS_KEY'],
    ['an AWS key id in groups of four, spaced', 'AKIA IOSF ODNN 7EXA MPL2', 'AWS_ACCESS_KEY'],
    ['an AWS key id in groups of four, dashed', 'AKIA-IOSF-ODNN-7EXA-MPL2', 'AWS_ACCESS_KEY'],
  ])('refuses %s, in a summary, a policy id and an actor_id local part', (_name, token, type) => {
    for (const [field, value] of [
      ['summary', `Blocked ${token} today`],
      ['policy_id', token],
      ['actor_id', `${token.replace(/ /g, '')}@example.com`],
    ] as const) {
      const v = guardAgentRecord({ ...record, [field]: value });
      expect(
        v.map((x) => x.path),
        `${field}: ${value}`,
      ).toContain(`/${field}`);
      if (field !== 'actor_id')
        expect(
          v.some((x) => x.message.includes(type)),
          `${field}: ${value}`,
        ).toBe(true);
    }
  });

  it.each([
    ['Russian prose', 'Обнаружен пароль; значение скрыто. Проверка АКІА завершена.'],
    ['Greek prose', 'Εντοπίστηκε ΡΑΣΣΩΟΡΔ; αποκρύφτηκε.'],
    ['a mixed-script product name', 'Сервис ghp-docs обновлён'],
    ['upper-case groups that are no key', 'ASIA PACI FICN ORTH EAST and AKIA-TEAM-SYNC-NOTE-LIST'],
    ['a GitHub prefix and a word', 'see ghp-documentation and ghp.example.com'],
  ])('accepts %s', (_name, summary) => {
    expect(refused('summary', summary)).toEqual([]);
  });
});

describe('a secret glued to its name in an identifier', () => {
  it.each([
    ['policy_id', 'db_password_Zq8vT2xk9'],
    ['policy_id', 'password-Winter2024x'],
    ['policy_id', 'api_key_Zq8vT2xk9Zq8vT2xk9Zq8'],
    ['policy_id', 'token.Zq8vT2xk9Zq8vT2xk9Zq8'],
    ['policy_id', 'secret-Zq8vT2xk9Zq8vT2xk9Zq8'],
    ['policy_version', 'password_Zq8vT2xk9'],
    ['preflight_id', 'pflt_password-Zq8vT2xk9'],
    ['actor_id', 'svc_token-Zq8vT2xk9@example.com'],
    // A review's: a run of separators, or ":" (a namespace's "::"), between the name and the value.
    ['preflight_id', 'pflt_password__Zq8vT2xk9L'],
    ['preflight_id', 'pflt_db_password--Zq8vT2xk9LmN4pQ7'],
    ['policy_id', 'password::Zq8vT2xk9L'],
    ['policy_id', 'password_:Zq8vT2xk9L'],
    ['policy_id', 'password.-Zq8vT2xk9L'],
    ['policy_version', 'secret__Zq8vT2xk9L'],
    ['summary', 'Blocked: password__Zq8vT2xk9L'],
    ['summary', 'Blocked: api_key--Zq8vT2xk9LmN4pQ7rS1tU3wY'],
    ['summary', 'Blocked: password::Zq8vT2xk9L'],
    ['actor_id', 'password__Zq8vT2xk9L@example.com'],
    ['actor_id', 'jane+password--Zq8vT2xk9L@example.com'],
    // A Markdown table's cell and aligned columns, short and long values (a review's).
    ['summary', 'Blocked: | password | Zq8vT2xk9L |'],
    ['summary', '| api_key | Zq8vT2xk9LmN4pQ7rS1tU3wY |'],
    ['summary', 'password    Zq8vT2xk9L'],
    ['policy_id', 'DB_PASSWORD   Zq8vT2xk9LmN4pQ7rS1tU3wY'],
  ])('refuses the %s %j as PASSWORD', (field, value) => {
    const v = guardAgentRecord(field === 'finding_counts_by_type' ? { ...record, [field]: { [value]: 1 } } : { ...record, [field]: value });
    expect(v.map((x) => x.path)).toEqual([`/${field}`]);
    expect(v[0]?.message).toContain('PASSWORD');
  });

  it.each([
    ['policy_id', 'password_policy_v2'],
    ['policy_id', 'password-reset'],
    ['policy_id', 'api_key_rotation'],
    ['policy_id', 'token_expiry_30d'],
    ['policy_id', 'token-expiry30d'],
    ['policy_id', 'secret-scanning'],
    ['policy_id', 'pol_password_min12chars'],
    ['policy_id', 'pol_api_key_rotation2024'],
    ['policy_id', 'secrets_scan_v20240101'],
    ['policy_version', 'password_v2.1.0'],
    ['preflight_id', 'pflt_password_reset_0001'],
    ['finding_counts_by_type', 'PASSWORD_IN_CODE'],
    ['finding_counts_by_type', 'API_KEY'],
    ['finding_counts_by_type', 'SECRET_KEY_V2'],
    ['finding_counts_by_type', 'AWS_SECRET_KEY'],
    ['finding_counts_by_type', 'TOKEN_IN_URL'],
    // A review's: generated names (a Kubernetes pod's, Secret's or ConfigMap's hash suffix, a commit's
    // hex, a setting) after a secret's name have one case only; a password or key has both. A value in
    // one case is let through too ("PASSWORD_ZQ8VT2XK9"): the price of these passing.
    ['policy_id', 'auth-token-7d9f8b6c5'],
    ['policy_id', 'pol_secret_5tc4m28d9k'],
    ['policy_id', 'pol_token_ttl3600s'],
    ['policy_id', 'pol_creds_3f2a9c1d'],
    ['policy_id', 'pass-3f2a9c1d'],
    ['policy_id', 'parola_chiave2024x'],
    ['policy_version', 'token_v2x9k8m7'],
    ['preflight_id', 'pflt_token-7d9f8b6c5'],
    ['actor_id', 'auth-token-7d9f8b6c5'],
    ['actor_id', 'secret.agent007x@example.com'],
    ['finding_counts_by_type', 'TOKEN_7D9F8B6C'],
    ['finding_counts_by_type', 'SECRET_K8S2X9Y7'],
    ['summary', 'Pod auth-token-7d9f8b6c5-x2x4z restarted'],
    ['summary', 'Secret app-secret-5tc4m28d9k mounted'],
    ['summary', 'ConfigMap app-credentials-g7h8k2m9t4 mounted'],
    ['summary', 'Secret db-password-6b9k2hm8tf rotated'],
    ['summary', 'Setting signing-key-fy2024q1 active'],
    ['summary', 'All checks pass -> 7d9f8b6c5'],
    ['summary', 'Token: 3f2a9c1d'],
    // Names with a namespace's "::" or a run of separators before words are code, not a value.
    ['summary', 'Raised Token::ParseError42 at line 7'],
    ['policy_id', 'pol_password__policy_v2'],
    ['summary', 'Rule secret--scanning-2024 matched'],
    ['summary', '| password | required |  token  |  Bearer  |'],
    ['summary', 'password reset for Zq8vT2xk9L'],
    ['summary', 'Checks:  password  policy2024  ok'],
  ])('accepts the %s %j', (field, value) => {
    expect(refused(field, value)).toEqual([]);
  });
});

describe('a short random secret under a secret name in a summary', () => {
  it.each([
    'secret=Zq8vT2xk9',
    'client_secret=Zq8vT2xk9',
    'api_key=Zq8vT2xk9',
    'token=Zq8vT2xk9',
    'access_token=Zq8vT2xk9',
    'credentials=Zq8vT2xk9',
    'pswd=Zq8vT2xk9',
    'pword=Zq8vT2xk9',
    'passw=Zq8vT2xk9',
    'p@ssword=Zq8vT2xk9',
    'p4ssw0rd=Zq8vT2xk9',
    'p\u0430ssword=Zq8vT2xk9',
    '\u03A1ASSWORD=Zq8vT2xk9',
    'has\u0142o: Zq8vT2xk9',
    'parola: Zq8vT2xk9',
    'password -> Zq8vT2xk9',
    'password \u2192 Zq8vT2xk9',
    'password \u00BB Zq8vT2xk9',
  ])('refuses %j as PASSWORD', (assignment) => {
    const v = guardAgentRecord({ ...record, summary: `Blocked: ${assignment} in input` });
    expect(v.map((x) => x.path)).toEqual(['/summary']);
    expect(v[0]?.message).toContain('PASSWORD');
    expect(JSON.stringify(v)).not.toContain('Zq8vT2xk9');
  });

  it.each([
    'token=expired',
    'secret=none',
    'api_key=missing',
    'token=ABC',
    'token=v2',
    'api_key=rotation2024',
    'Detected PASSWORD: 2, API_KEY: 1; masked.',
    'Blocked: credentials -> vault; token \u2192 refreshed',
    'parola: ciao',
    'password policy: min12chars',
  ])('accepts %j', (summary) => {
    expect(refused('summary', summary)).toEqual([]);
  });
});
