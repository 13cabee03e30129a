// Credentials in the shapes tools copy a request in: a header as a JSON member or a HAR entry
// (`{"name": "Cookie", "value": ...}`), a browser's "Copy as fetch", a form's bracketed parameter
// (`user[password]=`). Each was forwarded raw before (an attacker review found them).
import { describe, expect, it } from 'vitest';
import { fill, noPasswordIn, passwordsIn, refusedAsPassword } from '../../../test/support/detection.js';

const S = 'Zq8vT2xkP9mW4rLt';

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
  ])('%s', (_, text) => {
    expect(passwordsIn(text)).toEqual([S]);
    expect(refusedAsPassword(text)).toBe(true);
  });

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
  ])('%s', (_, text) => {
    expect(passwordsIn(text)).toEqual([S]);
    expect(refusedAsPassword(text)).toBe(true);
  });

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
  ])('%s', (_, text) => {
    // The value runs to the next blank, as a query's after any name ("password=X&commit=..."): more
    // masked, never less.
    const found = passwordsIn(text);
    expect(found).toHaveLength(1);
    expect(found[0]!.startsWith(S)).toBe(true);
    expect(refusedAsPassword(text)).toBe(true);
  });

  it.each(['user[password]=[FILTERED]&commit=Log+in', 'user[password_confirmation]=', 'user[password]=********', 'user[password]=&commit=Log+in'])(
    'stays as written: %s',
    (text) => noPasswordIn(text),
  );
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
