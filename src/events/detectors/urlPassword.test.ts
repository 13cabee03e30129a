import { describe, expect, it } from 'vitest';
import { detect } from '../detect.js';
import { detectAndMask } from '../mask.js';
import { detectUrlPasswords } from './urlPassword.js';

const found = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);
const masked = (text: string) => detectAndMask(text).masked;
const passwords = (text: string) => found(text).filter(([t]) => t === 'PASSWORD');

describe('a password in a URL', () => {
  it('finds the password whatever the host: no dot, a service name, a port, a path', () => {
    for (const [text, password] of [
      ['Blocked postgres://admin:S3cr3tPassw0rd@db-primary:5432/prod', 'S3cr3tPassw0rd'],
      ['DATABASE_URL=postgresql://app:Zq8sK2vLp9@postgres/app', 'Zq8sK2vLp9'],
      ['amqp://guest:G7hK2mPq@rabbitmq:5672/', 'G7hK2mPq'],
      ['REDIS_URL=redis://:hunter2@cache:6379/0', 'hunter2'],
      ['jdbc:postgresql://app:Tr0ub4dor@pg/app', 'Tr0ub4dor'],
      ['MONGO=MongoDB+SRV://svc:Mq7zLp2x@cluster0/db', 'Mq7zLp2x'],
      ['HTTPS_PROXY=http://proxy:Pr0xyPw@squid:3128', 'Pr0xyPw'],
      ['url = "postgres://u:Qw3rty@h/db" # dev', 'Qw3rty'],
      ['postgres://u:Qw3rty@/db?host=/var/run/postgresql', 'Qw3rty'],
      ['postgresql://u:Qw3rty@h1:5432,h2:5432/db', 'Qw3rty'],
    ] as const)
      expect(found(text), text).toEqual([['PASSWORD', password]]);
  });

  it('masks the password only, keeping the user and the host readable', () => {
    expect(masked('Blocked postgres://admin:S3cr3tPassw0rd@db-primary:5432/prod')).toBe('Blocked postgres://admin:[PASSWORD]@db-primary:5432/prod');
  });

  it('masks an IP address host beside the password', () => {
    expect(found('mysql://root:hunter2@10.0.0.5/app')).toEqual([
      ['PASSWORD', 'hunter2'],
      ['IP_ADDRESS', '10.0.0.5'],
    ]);
    expect(masked('mysql://root:hunter2@10.0.0.5/app')).toBe('mysql://root:[PASSWORD]@[IP_ADDRESS]/app');
  });

  it('a dotted host: the password, not an address made of the password and the host', () => {
    expect(found('postgres://admin:S3cr3t@db.example.com/x')).toEqual([['PASSWORD', 'S3cr3t']]);
    expect(masked('postgres://admin:S3cr3t@db.example.com/x')).toBe('postgres://admin:[PASSWORD]@db.example.com/x');
    // A user that is an address is still one (the address detector takes the "//" as local part too).
    const smtp = 'smtp://jane.doe%40example.com:Zq8sK2vLp9@mail.example.com:587';
    expect(found(smtp).map(([t]) => t)).toEqual(['EMAIL', 'PASSWORD']);
    expect(masked(smtp)).toMatch(/^smtp:\/{0,2}\[EMAIL\]:\[PASSWORD\]@mail\.example\.com:587$/);
  });

  it('a password percent-encoded, holding ":" or "@", or what a parser ends the authority at', () => {
    for (const [text, password] of [
      ['postgres://u:p%40ss@db/x', 'p%40ss'],
      ['postgres://u:pa:ss@db/x', 'pa:ss'],
      ['postgres://u:p@ss@db/x', 'p@ss'],
      ['postgres://u:p%2Fs%23s%3F@db/x', 'p%2Fs%23s%3F'],
      ['postgres://u:p%3Fw@db:5432/x', 'p%3Fw'],
      ['postgres://u:a%3Ab%40c@db/x', 'a%3Ab%40c'],
    ] as const)
      expect(found(text), text).toEqual([['PASSWORD', password]]);
    expect(masked('postgres://u:p%40ss@db/x')).toBe('postgres://u:[PASSWORD]@db/x');
  });

  it('each URL on its own: a redirect holding another, two on a line', () => {
    expect(found('http://u:pw1@h/x?next=http://a:pw2@c')).toEqual([
      ['PASSWORD', 'pw1'],
      ['PASSWORD', 'pw2'],
    ]);
    expect(found('a=redis://:k1@r b=amqp://g:k2@q')).toEqual([
      ['PASSWORD', 'k1'],
      ['PASSWORD', 'k2'],
    ]);
  });

  it('a known token in the password is reported as that token', () => {
    const gh = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
    expect(found(`git clone https://x-access-token:${gh}@github.com/acme/app.git`)).toEqual([['GITHUB_TOKEN', gh]]);
  });

  it('no password: a user alone, a port, an empty password, a path with "@", no scheme', () => {
    for (const text of [
      'ssh://git@github.com:22/org/repo',
      'git+ssh://git@github.com:org/repo.git@v1.0',
      'git+https://github.com/org/repo@v1.2',
      'https://host:443/',
      'https://registry.example:8080/users/@alice',
      'docker://registry:5000/image@sha256',
      'http://localhost:3000/api?user=a@b',
      'http://localhost:${PORT}/users/@me',
      'postgres://u:@db/x',
      'postgres://user@db/x',
      'https://example.com/a:b@c',
      'file:///C:/x@y',
      'see https://example.com: mail me',
      'user:hunter2@db with no scheme',
      '://u:hunter2@db with no scheme name',
      '123://u:hunter2@db',
    ])
      expect(passwords(text), text).toEqual([]);
  });

  it('template placeholders are no password (the guard would refuse the record for one)', () => {
    for (const placeholder of [
      '${DB_PASSWORD}',
      '$DB_PASSWORD',
      '$(cat /run/secrets/db)',
      '%DB_PASSWORD%',
      '%(password)s',
      '{{password}}',
      '{password}',
      '#{db_password}',
      '<password>',
      '[PASSWORD]',
      '[redacted]',
      '****',
      '•••',
      'xxx',
      'XXXXXXXX',
      '...',
      'password',
      'PASSWORD',
      'your_password',
      'YOUR-PASSWORD',
      'REDACTED',
    ])
      expect(found(`postgres://app:${placeholder}@db:5432/app`), placeholder).toEqual([]);
    // A real one that merely contains such a word or mark is one.
    expect(found('postgres://app:password123@db/app')).toEqual([['PASSWORD', 'password123']]);
    expect(found('postgres://app:p*ss@db/app')).toEqual([['PASSWORD', 'p*ss']]);
    expect(found('postgres://app:$ecr3tPw@db/app')).toEqual([['PASSWORD', '$ecr3tPw']]);
  });

  it('masked output scanned again finds nothing', () => {
    const once = masked('postgres://admin:S3cr3tPassw0rd@db-primary:5432/prod');
    expect(found(once)).toEqual([]);
  });

  it('stays linear on 1 MiB of adversarial input, with the right answer', () => {
    const n = 1 << 20;
    const fill = (unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
    // Every "a://b:c@" is a URL whose password is "c".
    expect(detectUrlPasswords(fill('a://b:c@'))).toHaveLength(n / 8);
    // Passwords run on past "/" at most to the next ":".
    expect(detectUrlPasswords(fill('a://b:c/'))).toEqual([]);
    expect(detectUrlPasswords(fill('a://b:c1/d@'))).toHaveLength(Math.floor(n / 11));
    for (const text of [
      fill('://'),
      fill('a://'),
      fill('://:'),
      `a://${fill('b')}`,
      `a://b:${fill('c')}`,
      `a://b:c/${fill('d')}@`,
      `${fill('1')}://b:c@`,
      fill(':@'),
      fill('a://:'),
      fill('a://b:1/'),
    ]) {
      // Only a URL cut at its bound could be found here; none has a password past it.
      for (const f of detectUrlPasswords(text)) expect(f.end - f.start).toBeLessThanOrEqual(1024);
    }
    // One long authority ending in "@": its password is read up to the bound, never past it.
    expect(detectUrlPasswords(`x://u:${'p'.repeat(n)}@h`)).toEqual([]);
  });
});

describe('URL passwords: the review of the first version', () => {
  const foundIn = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);

  it('finds a password whose space, quote or angle bracket is percent-encoded, as written', () => {
    expect(foundIn('DATABASE_URL=postgresql://app:Zq8%22v%3CT2%20x@db.internal:5432/prod')).toEqual([['PASSWORD', 'Zq8%22v%3CT2%20x']]);
    expect(foundIn('postgresql://app:s3cr3t%20pass@db/prod')).toEqual([['PASSWORD', 's3cr3t%20pass']]);
    expect(foundIn('amqps://svc:Pa%60ss%3Eword9@mq.internal/vhost')).toEqual([['PASSWORD', 'Pa%60ss%3Eword9']]);
  });

  it('reads no password in an IPv6 host, a named port, or a placeholder', () => {
    for (const text of [
      'http://[::1]:5173/@vite/client',
      'GET http://[::1]:5173/@vite/client net::ERR_CONNECTION_REFUSED',
      'http://[::1]/@scope/pkg',
      'http://localhost:PORT/@vite/client',
      'wss://host:port/@x',
      'https://x-access-token:${{secrets.GITHUB_TOKEN}}@github.com/org/repo.git',
      'https://user:***REDACTED***@host',
      'https://user:*****REDACTED*****@host',
      'https://user:null@host and https://user:undefined@host and https://user:token@host',
      'postgres://app:$%7BDB_PASSWORD%7D@db/prod',
      'https://user:%3Cpassword%3E@host',
      'https://user:%2A%2A%2A%2A@host',
      'https://x-access-token:…@github.com',
    ])
      expect(
        foundIn(text).filter(([t]) => t === 'PASSWORD'),
        text,
      ).toEqual([]);
    // A password in a user part before an IPv6 host is still one, and one of letters with an encoded
    // "/" is found as written.
    expect(foundIn('redis://:pass%2Fword@cache:6379')).toEqual([['PASSWORD', 'pass%2Fword']]);
    expect(foundIn('postgres://admin:S3cr3tPw@[2001:db8::1]:5432/prod')).toContainEqual(['PASSWORD', 'S3cr3tPw']);
  });
});
