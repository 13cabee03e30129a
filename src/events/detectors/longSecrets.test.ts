// Named secrets longer than a password (a cloud session token, a long bearer token, a base64 key)
// and real tokens with a run of one character in them. An attacker review found both forwarded raw:
// a value over 256 characters was read as a blob, no secret, and AWS STS tokens, which carry
// "//////////", as a value filled in for show.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fill, maskedText, noPasswordIn, passwordsIn, refusedAsPassword } from '../../../test/support/detection.js';

/** `length` characters of base64url, the same every run. */
function randomish(length: number, seed = 'long-secret'): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += createHash('sha256').update(`${seed}-${i}`).digest('base64url');
  return out.slice(0, length);
}

/** An AWS STS session token's shape: its fixed start, the run of slashes, then base64. */
const STS = `IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDxK8Zz${randomish(700, 'sts').replace(/-/g, '+').replace(/_/g, '/')}`;

/** The value found whole, masked with nothing of it left, and a record holding it refused. */
function foundWhole(text: string, value: string): void {
  expect(passwordsIn(text)).toEqual([value]);
  const masked = maskedText(text);
  expect(masked).not.toContain(value.slice(0, 24));
  expect(masked).not.toContain(value.slice(-24));
  expect(refusedAsPassword(text)).toBe(true);
}

describe('a named secret longer than any password', () => {
  const long = randomish(336);
  it.each([
    ['after Bearer', `Blocked Authorization: Bearer ${long}`, long],
    ['an env line', `Blocked API_KEY=${long}`, long],
    ['a JSON member', `{"api_key": "${long}"}`, long],
    ['a query parameter', `GET /v1/items?access_token=${long}&page=2`, long],
    ['a YAML line', `stringData:\n  token: ${long}\n`, long],
    ['an STS session token as a header', `Blocked X-Amz-Security-Token: ${STS}`, STS],
    ['an STS session token in the environment', `AWS_SESSION_TOKEN=${STS}`, STS],
  ])('%s', (_, text, value) => foundWhole(text, value));

  it('reads up to 4,096 characters, and a longer run as no value (a blob, not a credential someone pasted)', () => {
    const longest = randomish(4096);
    foundWhole(`API_KEY=${longest}`, longest);
    expect(passwordsIn(`API_KEY=${randomish(5000)}`)).toEqual([]);
  });

  it.each([
    // Prose after a secret's name is no value, however long.
    `token: ${'the rotation job ran and every key was replaced '.repeat(8)}`,
    // A list of digests after a name (a blank between them).
    `checksums: ${Array.from({ length: 12 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join(' ')}`,
    `secret_ref: ${'a/'.repeat(200)}`,
  ])('stays as written: %s', (text) => noPasswordIn(text));

  it('reads hostile repetitions of long named runs in time (each run is scanned once)', () => {
    const text = fill(`api_key=${randomish(300)}a&token=`);
    expect(passwordsIn(text.slice(0, 200_000)).length).toBeGreaterThan(100);
  });
});

describe('a real token with a run of one character in it', () => {
  it.each([
    ['ten slashes of an STS token', `X-Amz-Security-Token: ${STS.slice(0, 152)}`, STS.slice(0, 152)],
    ['a run of six A at the start', 'api_token=AAAAAAbC9dE3fG7hJ2kL5mN8pQ', 'AAAAAAbC9dE3fG7hJ2kL5mN8pQ'],
    ['a run of zeros inside', 'client_secret=Zq8sK2v0000000Lp9Xm4Tn7Rw1', 'Zq8sK2v0000000Lp9Xm4Tn7Rw1'],
  ])('%s', (_, text, value) => foundWhole(text, value));

  it.each([
    'api_key=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'api_token=Zq8v000000000000000000000000',
    'client_secret=ab12cd00000000000000000000',
    'SECRET_KEY=Ab12xxxxxxxxxxxxxxxxxxxxxxxx',
    'webhook_secret=Xy7YYYYYYYYYYYYYYYYYYYYyyyyy',
    'signing_key=MyAppKEYEXAMPLE12345678',
  ])('a value filled in for show stays as written: %s', (text) => noPasswordIn(text));
});

// Key names of frameworks and vendors an attacker review found unread: each value was forwarded raw.
describe("a key named by a framework's or a vendor's setting", () => {
  const key = 'Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc';
  it.each([
    `ENCRYPTION_KEY=${key}`,
    `AIRFLOW__CORE__FERNET_KEY=${key}`,
    `APP_KEY=base64:${key}`,
    `define('AUTH_KEY', '${key}');`,
    `define('SECURE_AUTH_KEY', '${key}');`,
    `VAULT_UNSEAL_KEY=${key}`,
    `DD_APP_KEY=${key}`,
    `NEW_RELIC_LICENSE_KEY=${key}`,
    `ALGOLIA_ADMIN_KEY=${key}`,
    `GET /verify?hmac_key=${key}&x=1`,
    `{"privkey": "${key}"}`,
  ])('%s', (text) => {
    // The value alone (Laravel's with its "base64:"), not a longer run around it.
    expect(passwordsIn(text)).toEqual([text.includes('base64:') ? `base64:${key}` : key]);
    expect(maskedText(text)).not.toContain(key);
    expect(refusedAsPassword(`Blocked ${text}`)).toBe(true);
  });

  // A review's: a WordPress salt full of symbols, quoted; a DeepL key (a UUID and ":fx"); short hex.
  it.each([
    [
      "define( 'AUTH_KEY', '<x8F?zq*{4e|;sq]H6_|r}W?5#(bGvRf:4zsUHSZK2N0[ah9|U#6Tr{Mx-D^f[mK' );",
      '<x8F?zq*{4e|;sq]H6_|r}W?5#(bGvRf:4zsUHSZK2N0[ah9|U#6Tr{Mx-D^f[mK',
    ],
    ['auth_key=279a2e9d-83b3-c416-7e2d-f721593e42a0:fx', '279a2e9d-83b3-c416-7e2d-f721593e42a0:fx'],
    ['encryption_key=3f2a9c1e7b6d5a489c1e7b6d', '3f2a9c1e7b6d5a489c1e7b6d'],
  ])('finds %s', (text, value) => {
    expect(passwordsIn(text)).toEqual([value]);
  });

  it.each(['ENCRYPTION_KEY=aes-256-gcm', 'license_key: MIT', 'app_key: billing-app', '{"auth_key_type": "rsa"}', 'encryption_key_id=kms-key-01'])(
    'stays as written: %s',
    (text) => noPasswordIn(text),
  );
});

// Command lines of tools an attacker review found unread, each with its password option.
describe("a password given on another tool's command line", () => {
  const pw = 'Hunter2Secret';
  it.each([
    `az login --service-principal -u app -p ${pw} --tenant t`,
    `psexec \\\\host -u admin -p ${pw} cmd`,
    `twine upload -u __token__ -p ${pw} dist/*`,
    `zip -P ${pw} x.zip notes.txt`,
    `7z a -p${pw} x.7z notes`,
  ])('%s', (text) => {
    expect(passwordsIn(text)).toEqual([pw]);
    expect(refusedAsPassword(`Blocked ${text}`)).toBe(true);
  });

  it.each(['zip -r backup.zip src -x node_modules', '7z x archive.7z -oout', 'az login --use-device-code', 'psexec \\\\host -s cmd', 'ssh -p 2222 host'])(
    'stays as written: %s',
    (text) => noPasswordIn(text),
  );
});

// A false-positive hunt's cases: each was refused after this round's first changes.
describe('ordinary records the new rules first refused', () => {
  it.each([
    // Prose naming a command's password option.
    'Detected PASSWORD in zip -P argument; masked.',
    'az login -p was used with a client secret',
    'Password passed to psexec -p on command line; blocked.',
    'PASSWORD found after twine -p in CI log; blocked.',
    'Masked the password given to zip -P before sending to chatgpt.com',
    'Password: zip -P - here',
    // A file named like the command.
    'ls -l ~/keys/*.7z -ph',
    'scp -i ~/.ssh/deploy_key backup.zip -P 2222 ops@bastion:/srv',
    'Scanned archive.7z -partial results; password required',
    // A page's, a captcha's or a continuation's token, however long.
    `skipToken: ${Buffer.from(JSON.stringify({ token: 'x'.repeat(20), range: { min: '05C1D9CD673398', max: 'FF' }, pad: randomish(120) })).toString('base64url')}`,
    `recaptcha_token=03AFcWeA${randomish(480)}`,
    `cf-turnstile-token: 0.${randomish(400)}`,
    `continue_token=${randomish(330)}`,
    `resumptionToken=${randomish(300)}`,
  ])('stays as written: %s', (text) => noPasswordIn(text));

  it.each([
    // A real password on those command lines, with no other word that names one.
    ['psexec \\\\srv01 -u ACME\\svc -p Zq8vT2xk!9 cmd /c whoami', 'Zq8vT2xk!9'],
    ['7z a x.7z -pZq8vT2xk!9 dir', 'Zq8vT2xk!9'],
    ['zip -P Zq8vT2xk!9 out.zip dir', 'Zq8vT2xk!9'],
    ['twine upload -p Zq8vT2xk!9 dist/*', 'Zq8vT2xk!9'],
    // Windows spellings (a review's).
    ['psexec.exe \\\\srv01 -u ACME\\svc -p Zq8vT2xk!9 cmd', 'Zq8vT2xk!9'],
    ['PsExec -u ACME\\svc -p Zq8vT2xk!9 \\\\srv01', 'Zq8vT2xk!9'],
    ['7z.exe a x.7z -pZq8vT2xk!9 dir', 'Zq8vT2xk!9'],
    ['zip.exe -P Zq8vT2xk!9 out.zip dir', 'Zq8vT2xk!9'],
  ])('finds %s', (text, pw) => {
    expect(passwordsIn(text)).toEqual([pw]);
  });
});
