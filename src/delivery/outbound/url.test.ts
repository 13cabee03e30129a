import { describe, expect, it } from 'vitest';
import { checkDestinationUrl, urlChecker } from './url.js';

const strict = { allowPrivate: false };
const local = { allowPrivate: true };

function codeOf(raw: string, opts = strict): string {
  const r = checkDestinationUrl(raw, opts);
  return r.ok ? 'ok' : r.code;
}

describe('checkDestinationUrl', () => {
  it('accepts a public https URL and returns the parsed URL', () => {
    const r = checkDestinationUrl('https://http-inputs-acme.splunkcloud.com/services/collector/event?x=1', strict);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.url.hostname).toBe('http-inputs-acme.splunkcloud.com');
    expect(codeOf('https://8.8.8.8/ingest')).toBe('ok');
    expect(codeOf('https://[2606:4700:4700::1111]:8443/')).toBe('ok');
  });

  it.each(['', '   ', 'not a url', '/relative/path', 'https://', 'https://exa mple.com/'])('refuses %j as invalid', (raw) => {
    expect(codeOf(raw)).toBe('invalid_url');
  });

  // The URL standard reads these as "https://x/" for a special scheme: a typo would become a host
  // called "x" (or "siem.example.com" out of a path), where the user meant something else.
  it.each(['https:///x', 'https:/siem.example.com/in', 'https:siem.example.com', 'https:\\\\siem.example.com\\in', 'https:/\\siem.example.com'])(
    'refuses %j: no host right after "//"',
    (raw) => {
      const r = checkDestinationUrl(raw, strict);
      expect(r).toEqual({ ok: false, code: 'invalid_url', message: 'The URL needs a host right after https:// (https://siem.example.com/path).' });
    },
  );

  it('refuses URLs longer than 2048 characters', () => {
    const long = `https://example.com/${'a'.repeat(2048)}`;
    expect(codeOf(long)).toBe('invalid_url');
    expect(codeOf(`https://example.com/${'a'.repeat(2000)}`)).toBe('ok');
  });

  it('requires https unless local destinations are allowed', () => {
    expect(codeOf('http://example.com/')).toBe('https_required');
    expect(codeOf('ftp://example.com/')).toBe('https_required');
    expect(codeOf('file:///etc/passwd')).toBe('https_required');
    expect(codeOf('http://example.com/', local)).toBe('ok');
    expect(codeOf('ftp://example.com/', local)).toBe('https_required');
  });

  it('says why https:// for a SIEM, and names the development setting only for a local receiver', () => {
    const message = (url: string) => {
      const r = checkDestinationUrl(url, { allowPrivate: false });
      return r.ok ? '' : r.message;
    };
    expect(message('http://splunk.example.com:8088/services/collector/event')).toBe(
      'Use https://: audit events and your credential must not travel unencrypted.',
    );
    // Said to a tenant: what is refused and whose setting it is, not the setting's name.
    for (const url of ['http://localhost:8088/', 'http://10.0.0.5/']) {
      expect(message(url)).toContain("private and local addresses are refused (a setting of the service's operator, for development only)");
      expect(message(url)).not.toContain('AEGIS_');
    }
  });

  it('refuses credentials in the URL, even when local destinations are allowed', () => {
    expect(codeOf('https://user:pass@example.com/')).toBe('credentials_in_url');
    expect(codeOf('https://user@example.com/')).toBe('credentials_in_url');
    expect(codeOf('https://:pass@example.com/', local)).toBe('credentials_in_url');
  });

  it('refuses port 0, which no server listens on (a destination that could never deliver)', () => {
    expect(checkDestinationUrl('https://example.com:0/x', strict)).toMatchObject({ ok: false, code: 'invalid_url', message: expect.stringMatching(/port/) });
    expect(codeOf('https://example.com:00/x', local)).toBe('invalid_url');
    expect(codeOf('https://example.com:65535/x')).toBe('ok');
    expect(codeOf('https://example.com:1/x')).toBe('ok');
  });

  it('refuses fragments, including an empty one', () => {
    expect(codeOf('https://example.com/ingest#x')).toBe('fragment_not_allowed');
    expect(codeOf('https://example.com/ingest#')).toBe('fragment_not_allowed');
  });

  it.each([
    ['https://127.0.0.1/', 'loopback'],
    ['https://2130706433/', 'decimal'],
    ['https://0x7f000001/', 'hex'],
    ['https://0177.0.0.1/', 'octal'],
    ['https://017700000001/', 'octal whole'],
    ['https://127.1/', 'short'],
    ['https://0/', 'zero'],
    ['https://10.1/', 'short private'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata'],
    ['https://0xa9.0xfe.0xa9.0xfe/', 'hex dotted metadata'],
    ['https://[::1]/', 'IPv6 loopback'],
    ['https://[::ffff:127.0.0.1]/', 'IPv4-mapped'],
    ['https://[::ffff:7f00:1]/', 'IPv4-mapped hex'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'NAT64 metadata'],
    ['https://[fd00:ec2::254]/', 'AWS metadata v6'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://localhost/', 'localhost'],
    ['https://LOCALHOST./', 'localhost trailing dot'],
    ['https://siem.localhost:8443/', '*.localhost'],
  ])('refuses %s (%s)', (raw) => {
    const r = checkDestinationUrl(raw, strict);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('forbidden_address');
      expect(r.message).toMatch(/private and local addresses are refused/);
    }
    expect(codeOf(raw, local)).toBe('ok');
  });

  it('names the kind of address with its article', () => {
    const said = (raw: string) => {
      const r = checkDestinationUrl(raw, strict);
      return r.ok ? null : r.message;
    };
    expect(said('https://0.0.0.0/')).toMatch(/^The URL points at an unspecified address \(0\.0\.0\.0\);/);
    expect(said('https://10.0.0.1/')).toMatch(/^The URL points at a private address \(10\.0\.0\.1\);/);
  });

  it('normalises numeric IPv4 forms to dotted form', () => {
    for (const raw of ['https://2130706433/', 'https://0x7f000001/', 'https://0177.0.0.1/', 'https://127.1/']) {
      const r = checkDestinationUrl(raw, local);
      expect(r.ok && r.url.hostname).toBe('127.0.0.1');
    }
  });

  it('leaves ordinary hostnames to the connect-time check', () => {
    expect(codeOf('https://internal.corp.example/')).toBe('ok');
    expect(codeOf('https://localhost.example.com/')).toBe('ok');
  });
});

describe('urlChecker', () => {
  it("gives checkDestinationUrl's verdict, with the parts a request is sent with", () => {
    const check = urlChecker(false);
    expect(check('https://Example.COM./ingest/v1?tenant=a&b=2')).toEqual({
      ok: true,
      // The origin is the URL's own (undici connects to it as given); only the host is made bare.
      target: { host: 'example.com', origin: 'https://example.com.', path: '/ingest/v1?tenant=a&b=2' },
    });
    expect(check('https://[2606:4700:4700::1111]:8443/')).toEqual({
      ok: true,
      target: { host: '2606:4700:4700::1111', origin: 'https://[2606:4700:4700::1111]:8443', path: '/' },
    });
    for (const raw of [
      '',
      'not a url',
      'http://example.com/',
      'https://u:p@example.com/',
      'https://example.com/#x',
      'https://127.0.0.1/',
      'https://localhost/',
    ]) {
      const verdict = checkDestinationUrl(raw, strict);
      const r = check(raw);
      expect(r.ok).toBe(false);
      if (!r.ok && !verdict.ok) {
        expect(r.code).toBe(verdict.code);
        expect(r.message).toBe(verdict.message);
      }
    }
  });

  it('names the host of a refused URL when it parses', () => {
    const check = urlChecker(false);
    expect(check('https://127.0.0.1:9/x')).toMatchObject({ ok: false, code: 'forbidden_address', host: '127.0.0.1' });
    expect(check('http://Siem.Example.com/')).toMatchObject({ ok: false, code: 'https_required', host: 'siem.example.com' });
    expect(check('not a url')).not.toHaveProperty('host');
  });

  it('applies its own allowPrivate to every URL', () => {
    expect(urlChecker(true)('http://localhost:8080/hook')).toEqual({
      ok: true,
      target: { host: 'localhost', origin: 'http://localhost:8080', path: '/hook' },
    });
    expect(urlChecker(false)('http://localhost:8080/hook')).toMatchObject({ ok: false, code: 'https_required' });
  });

  it('remembers the URLs that passed, at most `keep` of them, the oldest going first', () => {
    const check = urlChecker(false, 2);
    const first = check('https://a.example.com/');
    expect(check('https://a.example.com/')).toBe(first);
    check('https://b.example.com/');
    check('https://c.example.com/');
    const again = check('https://a.example.com/');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
