import { describe, expect, it } from 'vitest';
import { describeStartError, inspectRedacted, startErrorContext, type StartErrorContext } from './startErrors.js';

const PASSWORD = 'p@ss w0rd/secret';
const URL_WITH_PASSWORD = `postgres://aegis:${encodeURIComponent(PASSWORD)}@db.internal:6543/aegis?sslmode=require`;
const ctx: StartErrorContext = { databaseUrl: URL_WITH_PASSWORD, dataDir: '/var/lib/aegis', host: '0.0.0.0' };
const embedded: StartErrorContext = { databaseUrl: null, dataDir: './data', host: null };

function sysError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}
function pgError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('describeStartError', () => {
  it('names the database host and port, and what went wrong, for errors reaching PostgreSQL', () => {
    const cases: Array<[Error, RegExp]> = [
      [sysError('connect ECONNREFUSED 10.0.0.5:6543', { code: 'ECONNREFUSED', syscall: 'connect', address: '10.0.0.5', port: 6543 }), /connection refused/],
      [sysError('getaddrinfo ENOTFOUND db.internal', { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'db.internal' }), /no such host/],
      [sysError('getaddrinfo EAI_AGAIN db.internal', { code: 'EAI_AGAIN', syscall: 'getaddrinfo', hostname: 'db.internal' }), /could not be resolved/],
      [
        pgError('password authentication failed for user "aegis"', '28P01'),
        /refused the connection: password authentication failed for user "aegis" \(SQLSTATE 28P01\)/,
      ],
      [pgError('database "aegis" does not exist', '3D000'), /database "aegis" does not exist/],
      [pgError('no pg_hba.conf entry for host "10.0.0.9", user "aegis", database "aegis", no encryption', '28000'), /no pg_hba\.conf entry/],
      [new Error('The server does not support SSL connections'), /does not support SSL connections, but DATABASE_URL asks for SSL/],
      [new Error('timeout exceeded when trying to connect'), /connection timed out/],
      [sysError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), /cannot verify the TLS certificate/],
      // The server ended the session mid-start (a failover during a rolling upgrade's migration): one
      // line saying so and that nothing half-done is left, not a stack trace.
      [
        pgError('terminating connection due to administrator command', '57P01'),
        /ended the connection during start: terminating connection due to administrator command \(SQLSTATE 57P01\).*start again/,
      ],
      [pgError('terminating connection because of crash of another server process', '57P02'), /ended the connection during start.*57P02/],
      // A standby or a read-only server (the start's migration check writes): what it is and what to do.
      [
        Object.assign(pgError('cannot execute CREATE TABLE in a read-only transaction', '25006'), { severity: 'ERROR' }),
        /accepts no writes: cannot execute CREATE TABLE in a read-only transaction \(SQLSTATE 25006\): it is a standby or set read-only.*point DATABASE_URL at the primary/,
      ],
    ];
    for (const [err, re] of cases) {
      const line = describeStartError(err, ctx);
      expect(line, err.message).toMatch(/PostgreSQL at db\.internal:6543 \(DATABASE_URL\)/);
      expect(line, err.message).toMatch(re);
      expect(line).not.toContain('\n');
    }
  });

  it("names the embedded database's directory and the problem for PGlite's numbered file errors", () => {
    // Emscripten's ErrnoError: a number of WASI's numbering, no code, no path (an operator's review:
    // a full disk read "unexpected error: ErrnoError { name: 'ErrnoError', errno: 51 }").
    const errno = (n: number) => Object.assign(Object.create(null) as object, { name: 'ErrnoError', errno: n });
    expect(describeStartError(errno(51), embedded)).toBe('cannot use the data directory ./data (AEGIS_DATA_DIR): data/pglite: no space left on the device');
    expect(describeStartError(errno(54), embedded)).toMatch(/data\/pglite: a part of the path is a file, not a directory$/);
    expect(describeStartError(errno(69), embedded)).toMatch(/read-only file system$/);
    // PGlite's abort on files that are not a whole database (a copy of a running directory).
    const aborted = new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
    expect(describeStartError(aborted, embedded)).toMatch(
      /^cannot open the embedded database in data\/pglite \(AEGIS_DATA_DIR\): .*damaged or incomplete.*copy it again with the service stopped, or restore a backup taken so$/,
    );
    expect(describeStartError(aborted, ctx)).toBeNull();
    // An abort that names its reason is not the files' fault: left as the unexpected error it is.
    expect(describeStartError(new WebAssembly.RuntimeError('Aborted(OOM). Build with -sASSERTIONS for more info.'), embedded)).toBeNull();
    // A number it does not know stays the unexpected error it is; and on PostgreSQL it is not PGlite's.
    expect(describeStartError(errno(29), embedded)).toBeNull();
    expect(describeStartError(errno(51), ctx)).toBeNull();
  });

  it('reads the address Node 20 reports inside an AggregateError (localhost: ::1 and 127.0.0.1)', () => {
    const inner = sysError('connect ECONNREFUSED ::1:6543', { code: 'ECONNREFUSED', syscall: 'connect' });
    expect(describeStartError(new AggregateError([inner, inner]), ctx)).toMatch(/cannot reach PostgreSQL at db\.internal:6543 .*connection refused/);
  });

  it('names PORT for a port in use or forbidden, HOST for an address not on this machine', () => {
    const inUse = sysError('listen EADDRINUSE: address already in use 127.0.0.1:8080', {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '127.0.0.1',
      port: 8080,
    });
    expect(describeStartError(inUse, embedded)).toBe('port 8080 is already in use (PORT): another process listens on 127.0.0.1:8080');
    expect(describeStartError(sysError('listen EACCES', { code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 80 }), embedded)).toMatch(
      /^no permission to listen on port 80 \(PORT\)/,
    );
    expect(describeStartError(sysError('x', { code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.9.9.9', port: 8080 }), embedded)).toMatch(
      /^cannot listen on 10\.9\.9\.9 \(HOST\)/,
    );
  });

  it('names AEGIS_DATA_DIR for a data directory that cannot be created or written, and not for other paths', () => {
    expect(
      describeStartError(sysError("EACCES: permission denied, mkdir '/var/lib/aegis'", { code: 'EACCES', syscall: 'mkdir', path: '/var/lib/aegis' }), ctx),
    ).toBe('cannot use the data directory /var/lib/aegis (AEGIS_DATA_DIR): /var/lib/aegis: permission denied');
    expect(describeStartError(sysError('x', { code: 'EACCES', syscall: 'open', path: '/var/lib/aegis/encryption.key' }), ctx)).toMatch(/AEGIS_DATA_DIR/);
    expect(describeStartError(sysError('x', { code: 'ENOTDIR', syscall: 'mkdir', path: '/var/lib' }), ctx)).toMatch(/AEGIS_DATA_DIR.*not a directory/);
    expect(describeStartError(sysError('x', { code: 'EACCES', syscall: 'open', path: '/etc/other' }), embedded)).toBeNull();
    // A review's: a data directory under a read-only mount printed a stack trace. Node's recursive
    // mkdir reports that as ENOENT (as it did here for a tmpfs mounted read-only), not EROFS.
    expect(
      describeStartError(
        sysError("ENOENT: no such file or directory, mkdir '/var/lib/aegis'", { code: 'ENOENT', syscall: 'mkdir', path: '/var/lib/aegis' }),
        ctx,
      ),
    ).toBe(
      'cannot use the data directory /var/lib/aegis (AEGIS_DATA_DIR): /var/lib/aegis cannot be created: the directory above it is read-only or cannot be made',
    );
    expect(describeStartError(sysError('x', { code: 'ENOENT', syscall: 'open', path: '/var/lib/aegis/encryption.key' }), ctx)).toBeNull();
  });

  it('leaves anything else (a bug) to the full report', () => {
    expect(describeStartError(new TypeError('x is undefined'), ctx)).toBeNull();
    expect(describeStartError(pgError('syntax error at or near "SELEC"', '42601'), ctx)).toBeNull();
    expect(describeStartError(sysError('connect ECONNREFUSED', { code: 'ECONNREFUSED', syscall: 'connect' }), embedded)).toBeNull();
    expect(describeStartError('a string', ctx)).toBeNull();
  });

  it('never prints the password of DATABASE_URL, in a line or in the full report', () => {
    const err = new Error(`could not connect with ${URL_WITH_PASSWORD} (${PASSWORD})`);
    const report = inspectRedacted(err, ctx);
    expect(report).not.toContain(PASSWORD);
    expect(report).not.toContain(encodeURIComponent(PASSWORD));
    expect(report).toContain('db.internal:6543');
    const line = describeStartError(sysError('x', { code: 'ECONNREFUSED', syscall: 'connect' }), ctx)!;
    expect(line).not.toContain('secret');
    expect(line).not.toContain('aegis:');
  });

  it('names no host or port read out of a password holding an unencoded "#", "?" or "/"', () => {
    // The URL parser reads host "u" and port "12" here: both pieces of the password.
    for (const url of ['postgres://u:12#s3cr3tX@host/db', 'postgres://u:34?s3cr3tY@host/db', 'postgres://u:56/s3cr3tZ@host/db']) {
      const raw = url.slice('postgres://u:'.length, url.lastIndexOf('@'));
      const c = { ...ctx, databaseUrl: url };
      const line = describeStartError(sysError('getaddrinfo ENOTFOUND u', { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'u' }), c)!;
      expect(line, url).toMatch(/DATABASE_URL: its password holds an unencoded "#", "\?" or "\/".*percent-encode/);
      expect(line, url).not.toContain(raw.slice(0, 2));
      const report = inspectRedacted(new Error(`connect to ${url} failed: host u port ${raw.slice(0, 2)}`), c);
      for (const piece of raw.split(/[#?/]/)) expect(report, url).not.toContain(piece);
    }
  });

  it('names the socket directory and port pg connects to for a unix-socket DATABASE_URL, in each of its spellings', () => {
    const cases: Array<[string, string]> = [
      ['postgres:///aegis?host=/var/run/postgresql', '/var/run/postgresql/.s.PGSQL.5432'],
      ['postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/aegis', '/var/run/postgresql/.s.PGSQL.5432'],
      [`postgres://aegis:${encodeURIComponent(PASSWORD)}@/aegis?host=/tmp`, '/tmp/.s.PGSQL.5432'],
      [`postgres://aegis:${encodeURIComponent(PASSWORD)}@/aegis?host=/tmp&port=6001`, '/tmp/.s.PGSQL.6001'],
      // ?host= wins over the host written before the path, as in pg and libpq.
      ['postgres://ignored.example:7000/aegis?host=/run/pg', '/run/pg/.s.PGSQL.7000'],
    ];
    for (const [url, socket] of cases) {
      const c = { ...ctx, databaseUrl: url };
      const missing = sysError(`connect ENOENT ${socket}`, { code: 'ENOENT', syscall: 'connect', address: socket });
      const stale = sysError(`connect ECONNREFUSED ${socket}`, { code: 'ECONNREFUSED', syscall: 'connect', address: socket });
      const forbidden = sysError(`connect EACCES ${socket}`, { code: 'EACCES', syscall: 'connect', address: socket });
      const at = `PostgreSQL at unix socket ${socket} (DATABASE_URL)`;
      expect(describeStartError(missing, c), url).toBe(`cannot reach ${at}: no such socket (is the server running, with this socket directory and port?)`);
      expect(describeStartError(stale, c), url).toBe(`cannot reach ${at}: connection refused`);
      expect(describeStartError(forbidden, c), url).toBe(`cannot reach ${at}: permission denied`);
      for (const line of [missing, stale, forbidden].map((e) => describeStartError(e, c)!)) {
        expect(line).not.toContain('secret');
        expect(line).not.toContain('localhost');
      }
    }
    // A TCP host given in ?host= is the one named too.
    const tcp = { ...ctx, databaseUrl: 'postgres://u@/aegis?host=db.internal&port=6543' };
    expect(describeStartError(sysError('x', { code: 'ECONNREFUSED', syscall: 'connect' }), tcp)).toMatch(/^cannot reach PostgreSQL at db\.internal:6543 /);
    // ENOENT of anything but a connect is not the database's.
    expect(describeStartError(sysError('x', { code: 'ENOENT', syscall: 'open', path: '/etc/x' }), { ...ctx, databaseUrl: cases[0]![0] })).toBeNull();
  });

  it('never prints the password of a DATABASE_URL without a host (?host=), in the full report either', () => {
    const url = `postgres://aegis:${encodeURIComponent(PASSWORD)}@/aegis?host=/tmp`;
    const report = inspectRedacted(new Error(`connect with ${url} (${PASSWORD})`), { ...ctx, databaseUrl: url });
    expect(report).not.toContain(PASSWORD);
    expect(report).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('reads its context from the raw environment, the defaults included', () => {
    expect(startErrorContext({ DATABASE_URL: ' postgres://h/db ', HOST: '' })).toEqual({ databaseUrl: 'postgres://h/db', dataDir: './data', host: null });
  });
});
