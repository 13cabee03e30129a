import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from './env.js';

describe('ENV_VARS is the one list of environment variables', () => {
  it('loadConfig reads no variable that is not in the list', () => {
    const read = new Set<string>();
    const env = new Proxy(
      {},
      {
        get: (_t, k) => {
          if (typeof k === 'string') read.add(k);
          return undefined;
        },
      },
    );
    loadConfig(env);
    const names = new Set(ENV_VARS.map((v) => v.name));
    expect([...read].filter((k) => !names.has(k))).toEqual([]);
  });

  it('docs/configuration.md summarises exactly the listed variables', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Summary'), doc.indexOf('\n## ', doc.indexOf('## Summary') + 1));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(ENV_VARS.map((v) => v.name));
  });
});

describe('AEGIS_PUBLIC_URL and the yes/no variables', () => {
  it('refuses a public URL without an http(s) scheme: sign-in links built on it would not be links', () => {
    for (const bad of ['aegis.example.com:8443', 'localhost:8080', 'ftp://aegis.example.com', 'aegis.example.com', 'https://']) {
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).toThrow(/^AEGIS_PUBLIC_URL: must be an absolute http:\/\/ or https:\/\/ URL/);
    }
    expect(loadConfig({ AEGIS_PUBLIC_URL: 'https://aegis.example.com:8443/' }).publicUrl).toBe('https://aegis.example.com:8443');
  });

  it('refuses a public URL with credentials, a query or a fragment: sign-in links would carry or break on them', () => {
    // Links are the public URL plus "/auth/login?token=...": a query or a fragment would swallow the
    // path, and credentials would be printed in the start banner and mailed in every sign-in link.
    const cases: Array<[string, RegExp]> = [
      ['https://admin:s3cret@aegis.example.com', /must not carry a user name or password/],
      ['https://admin@aegis.example.com', /must not carry a user name or password/],
      ['https://aegis.example.com/?tenant=a', /must not carry a query/],
      ['https://aegis.example.com/?', /must not carry a query/],
      ['https://aegis.example.com/#top', /must not carry a fragment/],
      ['https://aegis.example.com#', /must not carry a fragment/],
    ];
    for (const [bad, reason] of cases) {
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).toThrow(/^AEGIS_PUBLIC_URL: /);
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).toThrow(reason);
      // The refusal does not repeat the password it refused.
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).not.toThrow(/s3cret/);
    }
  });

  it('never echoes a password or a query, even in a public URL that does not parse', () => {
    for (const bad of [
      'https://admin:pa/ss@aegis.example.com',
      'https://admin:pa#ss@aegis.example.com',
      'https://admin:s3cret@aegis.example.com:84433',
      'admin:s3cret@aegis.example.com',
      'https://admin:s3cret@',
      'https://aegis.example.com/?access_token=s3cret',
      'https://aegis.example.com/#s3cret',
    ]) {
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).toThrow(/^AEGIS_PUBLIC_URL: /);
      expect(() => loadConfig({ AEGIS_PUBLIC_URL: bad }), bad).not.toThrow(/s3cret|pa\/ss|pa#ss/);
    }
    // Still says what it got when nothing in it is secret.
    expect(() => loadConfig({ AEGIS_PUBLIC_URL: 'aegis.example.com:8443' })).toThrow(/got "aegis\.example\.com:8443"/);
  });

  it('blames HOST, not AEGIS_PUBLIC_URL, when the default public URL built from HOST is refused', () => {
    expect(() => loadConfig({ HOST: 'a@b' })).toThrow(/^HOST: /);
    expect(() => loadConfig({ HOST: '0.0.0.0#' })).toThrow(/^HOST: /);
    // As what it is, an address to listen on, not a URL (an operator's review was told "must be an
    // absolute http:// or https:// URL"); a user and password in it never echoed.
    expect(() => loadConfig({ HOST: 'bad host' })).toThrow(
      'HOST: must be a host name or an IP address to listen on (such as 127.0.0.1, 0.0.0.0 or ::), got "bad host"',
    );
    expect(() => loadConfig({ HOST: 'bob:s3cret@0.0.0.0' })).not.toThrow(/s3cret/);
  });

  it('stores the public URL as URL normalises it: scheme and host lower-case, no default port, no trailing slash', () => {
    const cases: Array<[string, string]> = [
      ['HTTPS://Aegis.EXAMPLE.com/', 'https://aegis.example.com'],
      ['Https://aegis.example.com:443', 'https://aegis.example.com'],
      ['HTTP://AEGIS.example.com:80//', 'http://aegis.example.com'],
      ['https://Aegis.example.com:8443/Stream/', 'https://aegis.example.com:8443/Stream'],
      ['http://[::1]:0', 'http://[::1]:0'],
    ];
    for (const [given, stored] of cases) expect(loadConfig({ AEGIS_PUBLIC_URL: given }).publicUrl, given).toBe(stored);
    expect(loadConfig({ HOST: '::1', PORT: '8080' }).publicUrl).toBe('http://[::1]:8080');
    expect(loadConfig({ AEGIS_PUBLIC_URL: 'HTTPS://Aegis.Example.com' }).alerts.from).toBe('alerts@aegis.example.com');
  });

  it('says every value a yes/no variable takes', () => {
    expect(() => loadConfig({ AEGIS_ALLOW_PRIVATE_DESTINATIONS: 'on' })).toThrow(/must be 1, true or yes, or 0, false or no, got "on"/);
    expect(loadConfig({ AEGIS_ALLOW_PRIVATE_DESTINATIONS: 'Yes' }).allowPrivateDestinations).toBe(true);
  });
});

describe('alert settings', () => {
  it('defaults: no SMTP, From at the public host, a 30 s digest', () => {
    const c = loadConfig({ AEGIS_PUBLIC_URL: 'https://aegis.example.com' });
    expect(c.alerts).toEqual({ smtpUrl: null, from: 'alerts@aegis.example.com', digestWindowMs: 30_000, emailDomains: null });
  });

  it('takes an smtp:// or smtps:// URL and a From with a name', () => {
    const c = loadConfig({
      AEGIS_SMTP_URL: 'smtps://u:p%40ss@mail.example.com:465',
      AEGIS_ALERT_FROM: 'Aegis <alerts@example.com>',
      AEGIS_ALERT_DIGEST_S: '0',
    });
    expect(c.alerts).toEqual({ smtpUrl: 'smtps://u:p%40ss@mail.example.com:465', from: 'Aegis <alerts@example.com>', digestWindowMs: 0, emailDomains: null });
    // The alert domains, lower-cased once, duplicates dropped.
    expect(loadConfig({ AEGIS_ALERT_EMAIL_DOMAINS: ' Example.COM,ops.example.org , example.com' }).alerts.emailDomains).toEqual([
      'example.com',
      'ops.example.org',
    ]);
  });

  it('refuses a bad SMTP URL without echoing it (it holds a password)', () => {
    for (const bad of ['https://u:hunter2secret@mail.example.com', 'smtp://', 'not a url hunter2secret']) {
      let message = '';
      try {
        loadConfig({ AEGIS_SMTP_URL: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^AEGIS_SMTP_URL: /);
      expect(message).not.toContain('hunter2secret');
    }
  });

  it('refuses a From that could inject a header', () => {
    expect(() => loadConfig({ AEGIS_ALERT_FROM: 'a@example.com\r\nBcc: b@example.com' })).toThrow(/^AEGIS_ALERT_FROM/);
    expect(() => loadConfig({ AEGIS_ALERT_DIGEST_S: '-1' })).toThrow(/^AEGIS_ALERT_DIGEST_S/);
  });
});

describe('AEGIS_MAX_HOLD_HOURS', () => {
  it('defaults to 168 h (7 days) and takes whole hours from 1 to 8760', () => {
    expect(loadConfig({}).maxHoldHours).toBe(168);
    expect(loadConfig({ AEGIS_MAX_HOLD_HOURS: '48' }).maxHoldHours).toBe(48);
    for (const bad of ['0', '8761', '1.5', 'week']) expect(() => loadConfig({ AEGIS_MAX_HOLD_HOURS: bad })).toThrow(/^AEGIS_MAX_HOLD_HOURS: /);
  });
});

describe('DATABASE_URL', () => {
  const load = (url: string) => () => loadConfig({ DATABASE_URL: url });
  it('refuses a URL pg could not parse in one line that never quotes it (it may hold a password)', () => {
    for (const url of ['postgres://u:S3cretPw@127.0.0.1:99999/db', 'postgres://u:S3cretPw@[bad/db', 'postgresql://u:S3cretPw@host:port/db']) {
      expect(load(url)).toThrow(/^DATABASE_URL: is not a valid URL \(check the port, .*the value is not shown\)$/);
      expect(load(url)).not.toThrow(/S3cretPw/);
    }
  });
  it('refuses a TLS file that is not there, naming the parameter and the path', () => {
    expect(load('postgres://u:S3cretPw@db/aegis?sslrootcert=/nonexistent/ca.pem')).toThrow(
      'DATABASE_URL: the file of its sslrootcert parameter, /nonexistent/ca.pem, does not exist',
    );
    expect(load('postgres://u:S3cretPw@db/aegis?sslmode=verify-full&sslkey=/nonexistent/k.pem')).toThrow(
      /sslkey parameter, \/nonexistent\/k\.pem, does not exist/,
    );
  });
  it('takes a URL whose TLS files exist, a unix socket and an IPv6 host', () => {
    const ca = new URL('../../test/fixtures/tls/ca.pem', import.meta.url).pathname;
    for (const url of [
      `postgres://u:pw@db/aegis?sslrootcert=${ca}`,
      'postgres:///aegis?host=/var/run/postgresql',
      'postgres://u:pw@/aegis?host=/tmp&port=6001',
      'postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/aegis',
      'postgresql://u:p%40ss@[::1]:5432/db',
    ]) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });
});

describe('database pools', () => {
  it('keeps 3 of the 10 connections for the API by default, and refuses to leave the worker none', () => {
    expect(loadConfig({})).toMatchObject({ dbPoolMax: 10, dbApiConnections: 3 });
    expect(loadConfig({ AEGIS_DB_POOL_MAX: '2', AEGIS_DB_API_CONNECTIONS: '1' })).toMatchObject({ dbPoolMax: 2, dbApiConnections: 1 });
    expect(() => loadConfig({ AEGIS_DB_POOL_MAX: '4', AEGIS_DB_API_CONNECTIONS: '4' })).toThrow(
      /^AEGIS_DB_API_CONNECTIONS: must be less than AEGIS_DB_POOL_MAX \(4\)/,
    );
    expect(() => loadConfig({ AEGIS_DB_API_CONNECTIONS: '0' })).toThrow(/^AEGIS_DB_API_CONNECTIONS/);
  });

  it('fits the unset API share to a small pool: AEGIS_DB_POOL_MAX alone is never refused for it', () => {
    // A one-role process (--role worker) with a pool of 2 or 3: the variable it never set must not stop it.
    expect(loadConfig({ AEGIS_DB_POOL_MAX: '2' })).toMatchObject({ dbPoolMax: 2, dbApiConnections: 1 });
    expect(loadConfig({ AEGIS_DB_POOL_MAX: '3' })).toMatchObject({ dbPoolMax: 3, dbApiConnections: 2 });
    expect(loadConfig({ AEGIS_DB_POOL_MAX: '4' })).toMatchObject({ dbPoolMax: 4, dbApiConnections: 3 });
    // Set by the operator, it is held to the rule as written.
    expect(() => loadConfig({ AEGIS_DB_POOL_MAX: '3', AEGIS_DB_API_CONNECTIONS: '3' })).toThrow(/^AEGIS_DB_API_CONNECTIONS: must be less than/);
  });

  it('prepares the hot statements unless told not to, and refuses a value that is not a yes or a no', () => {
    expect(() => loadConfig({ AEGIS_DB_PREPARED_STATEMENTS: 'sometimes' })).toThrow(/AEGIS_DB_PREPARED_STATEMENTS/);
    expect(loadConfig({ AEGIS_DB_PREPARED_STATEMENTS: 'no' }).dbPreparedStatements).toBe(false);
    expect(loadConfig({}).dbPreparedStatements).toBe(true);
  });

  it("gives the API's statements a 30 s statement_timeout by default, 0 to not set one, and refuses what is not a sensible time", () => {
    expect(loadConfig({}).dbApiStatementTimeoutMs).toBe(30_000);
    expect(loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '0' }).dbApiStatementTimeoutMs).toBe(0);
    expect(loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '1000' }).dbApiStatementTimeoutMs).toBe(1000);
    expect(loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '3600000' }).dbApiStatementTimeoutMs).toBe(3_600_000);
    // Milliseconds: "30" meant as seconds would cut every statement after 30 ms.
    expect(() => loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '30' })).toThrow(
      /^AEGIS_DB_API_STATEMENT_TIMEOUT_MS: must be 0 \(no limit\) or at least 1000 \(milliseconds, like every \*_MS variable\), got 30$/,
    );
    expect(() => loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: '3600001' })).toThrow(/^AEGIS_DB_API_STATEMENT_TIMEOUT_MS: must be between 0 and 3600000/);
    for (const bad of ['30s', '-1', '1.5', 'off']) {
      expect(() => loadConfig({ AEGIS_DB_API_STATEMENT_TIMEOUT_MS: bad }), bad).toThrow(/^AEGIS_DB_API_STATEMENT_TIMEOUT_MS: must be a whole number, got "/);
    }
  });
});

describe('a value of only spaces', () => {
  it('counts as unset for every variable, as docs/configuration.md says: numbers, yes/no, lists and text alike', () => {
    const unset = loadConfig({});
    for (const { name } of ENV_VARS) {
      for (const blank of ['   ', ' \t ', '\n']) {
        expect(loadConfig({ [name]: blank }), `${name}=${JSON.stringify(blank)}`).toEqual(unset);
      }
    }
  });

  it('is trimmed around a value of every kind before it is checked', () => {
    expect(loadConfig({ PORT: ' 9090 ', AEGIS_ALLOW_PRIVATE_DESTINATIONS: ' yes ', AEGIS_RETRY_DELAYS_S: ' 5, 10 ', HOST: ' 0.0.0.0 ' })).toMatchObject({
      port: 9090,
      allowPrivateDestinations: true,
      retryDelaysS: [5, 10],
      host: '0.0.0.0',
    });
    expect(() => loadConfig({ PORT: ' 80 80 ' })).toThrow(/^PORT: must be a whole number, got "80 80"/);
  });
});

describe('AEGIS_API_MAX_CONCURRENT_PER_ORG', () => {
  it('defaults to 4, takes 0 (no limit) to 1000 and refuses anything else naming the variable', () => {
    expect(loadConfig({}).apiMaxConcurrentPerOrg).toBe(4);
    expect(loadConfig({ AEGIS_API_MAX_CONCURRENT_PER_ORG: '0' }).apiMaxConcurrentPerOrg).toBe(0);
    expect(loadConfig({ AEGIS_API_MAX_CONCURRENT_PER_ORG: '1000' }).apiMaxConcurrentPerOrg).toBe(1000);
    expect(() => loadConfig({ AEGIS_API_MAX_CONCURRENT_PER_ORG: '1001' })).toThrow(/^AEGIS_API_MAX_CONCURRENT_PER_ORG: must be between 0 and 1000/);
    expect(() => loadConfig({ AEGIS_API_MAX_CONCURRENT_PER_ORG: '-1' })).toThrow(/^AEGIS_API_MAX_CONCURRENT_PER_ORG: must be a whole number/);
  });
});
