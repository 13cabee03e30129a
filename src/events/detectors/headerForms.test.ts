// Credentials in the shapes tools copy a request in: a header as a JSON member or a HAR entry
// (`{"name": "Cookie", "value": ...}`), a browser's "Copy as fetch", a form's bracketed parameter
// (`user[password]=`). Each was forwarded raw before (an attacker review found them).
import { describe, expect, it } from 'vitest';
import { fill, noPasswordIn, passwordsIn, refusedAsPassword } from '../../../test/support/detection.js';

const S = 'Zq8vT2xkP9mW4rLt';

/** S, and only S, found as a password, masked, and the record holding it refused. */
function onlySecretRefused(text: string): void {
  expect(passwordsIn(text)).toEqual([S]);
  expect(refusedAsPassword(text)).toBe(true);
}

describe('a session cookie written as a JSON member, a HAR entry or a JS object', () => {
  it.each([
    ['a JSON member', `Blocked paste: {"cookie":"sessionid=${S}"}`],
    ['a capitalised JSON member with a second cookie', `{"Cookie": "sessionid=${S}; csrftoken=abc"}`],
    ['Chrome\'s "Copy as fetch"', `fetch("https://app.example.com/api", {"headers": {"cookie": "sessionid=${S}"}})`],
    ['single quotes around the name', `{'Cookie': 'sessionid=${S}'}`],
    ['a JS object, the value in double quotes', `headers: { Cookie: "sessionid=${S}" }`],
    ['a header line, the value in double quotes', `Cookie: "sessionid=${S}"`],
    ['a Set-Cookie member', `"Set-Cookie": "sessionid=${S}; HttpOnly"`],
    ['a HAR entry', `{"name": "Cookie", "value": "sessionid=${S}"}`],
    ['a HAR entry without blanks', `{"name":"cookie","value":"PHPSESSID=${S}"}`],
    ['document.cookie', `document.cookie = "sessionid=${S}"`],
  ])('%s', (_, text) => onlySecretRefused(text));

  it.each([
    `{"cookie": "theme=dark"}`,
    `{"name": "Cookie", "value": "consent=yes; theme=dark"}`,
    `{"cookie_consent": "accepted"}`,
    `{"name": "cookie", "value": "chocolate chip"}`,
    `"Set-Cookie": "sessionid=expired; Path=/"`,
    `{"cookie":"csrftoken=${S}"}`,
  ])('stays as written: %s', (text) => noPasswordIn(text));
});

describe('an Authorization header in other shapes', () => {
  it.each([
    ['a HAR entry with a Token scheme', `Blocked: {"name":"Authorization","value":"Token ${S}"}`],
    ['a HAR entry with a bare key', `{"name": "authorization", "value": "${S}"}`],
    ['a bare key after the header name', `Blocked header Authorization: ${S}`],
    ['a JSON member with a bare key', `{"authorization":"${S}"}`],
    ['form-encoded, an unknown scheme', `authorization=Custom+${S}`],
    ['a Proxy-Authorization bare key', `Proxy-Authorization: ${S}`],
  ])('%s', (_, text) => onlySecretRefused(text));

  // A review found these let through by the first version of the id rules.
  it.each([
    'Authorization: 0f6c3e2a9b8d7c6e5f4a3b2c1d0e9f8a',
    '{"authorization": "0f6c3e2a9b8d7c6e5f4a3b2c1d0e9f8a"}',
    'Authorization: zq8vt2xkp9mw4rltyc3abqw9nfhs7d2k',
    'Authorization: ZQ8VT2XKP9MW4RLTYC3ABQW9NFHS7D2K',
    'Authorization: secret_Zq8vT2xkP9mW4rLtYc3AbQw9',
  ])('a key of one case, hex or with a key prefix: %s', (text) => {
    // The key whole, its prefix with it: nothing else of the text.
    expect(passwordsIn(text)).toEqual([/[A-Za-z0-9_]{28,}/.exec(text)![0]]);
    expect(refusedAsPassword(text)).toBe(true);
  });

  it('reads a bare key with a "+" whole, outside a form', () => {
    const key = 'Zq8vT2xkP9mW4rLtYc3Ab+Qw9==';
    expect(passwordsIn(`Authorization: ${key}`)).toEqual([key]);
    expect(passwordsIn(`{"authorization": "${key}"}`)).toEqual([key]);
  });

  // Ids and words after the word "authorization" in logs and payment records (an attacker review
  // found each refused by the first version of the bare-key rule).
  it.each([
    'transaction authorization: 4f1c7d2e-9b3a-4e6f-8c1d-2a3b4c5d6e7f',
    'Authorization: req_01HZX3K9QYB7V2M8N4P6R5T0WA',
    'Payment authorization: txn_9f8e7d6c5b4a3210fedc',
    '{"authorization": "iauth_1MzFN1K8F4fqH0lBmFq8CjbU"}',
    '{"authorization": "AUTH0000123456789ABC"}',
    '{"authorization": "ApprovedByManager2024"}',
    'authorization: OAuth2ClientCredentials',
    'authorization=denied&reason=policy_violation_42',
    // Ids of one case a review found read as keys: a MongoDB ObjectId, ULIDs, a cuid2, a long code.
    'Authorization: 507f1f77bcf86cd799439011',
    '{"authorization": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}',
    'authorization: 01hf3k9z8x7w6v5t4s3r2q1p0n',
    'authorization: tz4a98xxat96iws9zmbrgj3a',
    '{"authorization": "AUTH0000123456789ABCDEFGH"}',
  ])('an id or a word stays as written: %s', (text) => noPasswordIn(text));

  it.each([
    'Authorization: required',
    '{"authorization": "granted"}',
    '{"name": "Authorization", "value": "[REDACTED]"}',
    'authorization: denied by policy',
    'Authorization: pending-approval',
    '{"authorization":"none"}',
    'authorization header missing',
  ])('stays as written: %s', (text) => noPasswordIn(text));
});

describe("a password as a form's bracketed parameter", () => {
  it.each([
    ['Rails', `Blocked form post user[password]=${S}&commit=Log+in`],
    ['a POST line', `POST /login user[password]=${S}&user[email]=x`],
    ['percent-encoded brackets', `user%5Bpassword%5D=${S}&commit=Log+in`],
    ['Symfony', `form[_password]=${S}`],
    ['a secret', `credentials[secret]=${S}`],
    ['an API key', `params[api_key]=${S}`],
    ['nested', `user[credentials][password]=${S}`],
  ])('%s', (_, text) => onlySecretRefused(text));

  it.each([
    'user[password]=[FILTERED]&commit=Log+in',
    'user[password_confirmation]=',
    'user[password]=********',
    'user[password]=&commit=Log+in',
    // Devise's login body with the password left empty, and a form's field settings.
    'authenticity_token=Xy12&user[login]=bob&user[password]=&user[remember_me]=0&commit=Log+in',
    '?a=1&user%5Bpassword%5D=&user%5Bemail%5D=bob&x=1',
    'fields[password]=required&fields[email]=optional',
  ])('stays as written: %s', (text) => noPasswordIn(text));
});

// A web framework's CSRF field in a pasted form body (an attacker review): each was refused as a
// password, so no form body of Django, Rails, ASP.NET or Laravel could be recorded.
describe("a framework's CSRF field is no credential; the form's password still is", () => {
  const csrf = 'kX9vQ2mZ7pL4rT8wN3bY6cF1hJ5';
  it.each([
    ['Django', `csrfmiddlewaretoken=${csrf}&username=bob`],
    ['Rails', `authenticity_token=${csrf}&user[login]=bob`],
    ['ASP.NET', `__RequestVerificationToken=${csrf}&UserName=bob`],
    ['Laravel', `_token=${csrf}&email=bob`],
    ['an anti-forgery field', `anti_forgery_token=${csrf}&x=1`],
    ['ASP.NET Core, as JSON', `{"__RequestVerificationToken": "${csrf}", "UserName": "bob"}`],
  ])('%s', (_, text) => noPasswordIn(text));

  it.each([
    ['Django', `csrfmiddlewaretoken=${csrf}&username=bob&password=${S}`],
    ['Rails', `authenticity_token=${csrf}&user[login]=bob&user[password]=${S}`],
    ['Laravel', `_token=${csrf}&email=bob&password=${S}`],
  ])('%s: the password alone', (_, text) => onlySecretRefused(text));

  it.each([
    `access_token=${csrf}`,
    `_authToken=${csrf}`,
    `auth_token=${csrf}`,
    `api_token=${csrf}`,
    // A review's: Slack's and Zoom's verification tokens are shared secrets, and so is a one-time link's.
    `SLACK_VERIFICATION_TOKEN=${csrf}`,
    `{"SLACK_VERIFICATION_TOKEN": "${csrf}"}`,
    `zoom_verification_token=${csrf}`,
    `email_verification_token=${csrf}`,
    `__token=${csrf}`,
  ])('a secret token beside them stays one: %s', (text) => {
    expect(passwordsIn(text)).toEqual([csrf]);
  });
});

describe('hostile repetitions of the new shapes', () => {
  // Each shape walked once: a header's value is read once per name, a cookie header's pairs once.
  it.each([
    '{"name":"Cookie","value":"',
    '"cookie": "sid=',
    'authorization: Custom ',
    '{"authorization":"',
    'authorization=Custom+',
    'user[password]=',
    'user%5Bpassword%5D=&',
  ])('1 MiB of %s', (unit) => {
    const text = fill(unit);
    for (const value of passwordsIn(text)) expect(value.length).toBeLessThanOrEqual(256);
  });
});
