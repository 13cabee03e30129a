import { describe, expect, it } from 'vitest';
import { detect } from '../detect.js';
import { countByType } from '../findings.js';
import { evaluatePolicy } from '../policy.js';
import { detectAndMask } from '../mask.js';
import { guardAgentRecord } from '../privacyGuard.js';
import { detectNamedPasswords, MARK_RANGES } from './namedPassword.js';

// The linear-time tests: 1 MiB of a hostile unit, and the longest finding in it (a quadratic path
// takes minutes on these and meets the test's ceiling; nothing is timed).
const MiB = 1 << 20;
const fillMiB = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
/**
 * The longest finding's length, asserted once by the caller: an expect() per finding took two minutes
 * on a busy machine for one input that yields 2.7 million of them ("curl -u a:"), its detection three
 * seconds.
 */
function longestFinding(text: string): number {
  let longest = 0;
  for (const f of detectNamedPasswords(text)) longest = Math.max(longest, f.end - f.start);
  return longest;
}

const found = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);
const passwords = (text: string) => found(text).filter(([t]) => t === 'PASSWORD');
const masked = (text: string) => detectAndMask(text).masked;
/** The types the privacy guard refuses an agent record's summary as ("... as PASSWORD"). */
const refusedAs = (summary: string) =>
  guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0', summary })
    .map((v) => /as (\w+)/.exec(v.message)?.[1])
    .filter((t) => t !== undefined);
/** Refused as a password, `secret` its only finding, masked out, and the whole record refused for it. */
const refusedAlone = (text: string, secret: string) => {
  expect(passwords(text), text).toEqual([['PASSWORD', secret]]);
  expect(masked(text), text).not.toContain(secret);
  expect(refusedAs(text), text).toContain('PASSWORD');
};
/** Neither found nor masked nor refused. */
const accepted = (text: string) => {
  expect(passwords(text), text).toEqual([]);
  expect(masked(text), text).toBe(text);
  expect(refusedAs(text), text).toEqual([]);
};
const PW = 'Hunter2Secret!';

describe('a password given as the value of a name that says so', () => {
  it.each([
    ['a query parameter', `https://api.example.com/login?user=bob&password=${PW}`],
    ['an env variable', `DB_PASSWORD=${PW}`],
    ['PGPASSWORD glued, before its command', `PGPASSWORD=${PW} psql -h db`],
    ['compose YAML', `MYSQL_ROOT_PASSWORD: ${PW}`],
    ['YAML, quoted', `password: "${PW}"`],
    ['JSON', `{"password": "${PW}"}`],
    ['JSON, single-quoted (a Python repr)', `{'password': '${PW}'}`],
    ['a Spring property', `spring.datasource.password=${PW}`],
    ['an ADO.NET connection string', `Server=db;User Id=sa;Password=${PW};`],
    ['an ADO.NET connection string, Pwd and any case', `server=db;uid=sa;PWD=${PW};Encrypt=true`],
    ['a JDBC property list', `jdbc:sqlserver://db:1433;user=sa;password=${PW};encrypt=true`],
    ['a Go MySQL DSN', `bob:${PW}@tcp(db.internal:3306)/prod`],
    ['a Go MySQL DSN over a socket', `bob:${PW}@unix(/var/run/mysqld/mysqld.sock)/prod`],
    ['mysql -p glued', `mysql -u root -p${PW} db`],
    ['mysql in a container, options first', `docker exec -it db mysql --host=db -uroot -P 3306 -p${PW} -e 'select 1'`],
    ['mysqldump -p glued, quoted', `mysqldump -uroot -p'${PW}' --all-databases`],
    ['a long flag', `--password=${PW}`],
    ['a long flag and its value after a space', `docker login -u bob --password ${PW} ghcr.io`],
    ['camelCase', `const opts = { dbPassword: "${PW}" }`],
    ['a PHP array', `'password' => '${PW}',`],
    ['Go :=', `password := "${PW}"`],
    ['INI, padded', `password   = ${PW}`],
    ['an XML element', `<password>${PW}</password>`],
    ['an XML attribute', `<datasource user="sa" password="${PW}"/>`],
    ['appSettings key/value', `<add key="DbPassword" value="${PW}" />`],
    ['a Kubernetes env list', `- name: DB_PASSWORD\n  value: ${PW}`],
    ['a subscript', `os.environ["DB_PASSWORD"] = "${PW}"`],
    ['passwd', `passwd=${PW}`],
    ['passphrase', `ssl_key_passphrase: ${PW}`],
    // A door's, a voicemail's, a conference bridge's: a password by another name (found missed, 2026-12-06).
    ['passcode', `passcode=${PW}`],
    ['PASSCODE, quoted', `VOICEMAIL_PASSCODE="${PW}"`],
    ['pass_code in JSON', `{"pass_code": "${PW}"}`],
    ['MYSQL_PWD', `MYSQL_PWD=${PW} mysql -u root`],
    ['a chat message', `here you go, password: ${PW}`],
    ['a bold Markdown name', `**Password**: ${PW}`],
    ['a Django form field', `username=bob&password1=${PW}`],
    ['percent-encoded', `password%3D${PW.replace('!', '%21')}`],
    ['HTML-escaped query', `/login?user=bob&amp;password=${PW}`],
    ['a .netrc', `machine api.example.com login bob password ${PW}`],
    ['JSON inside a JSON string', `{"body": "{\\"password\\": \\"${PW}\\"}"}`],
  ])('%s: reported, and blocked', (_name, text) => {
    const pws = passwords(text);
    expect(pws.length, text).toBeGreaterThan(0);
    for (const [, v] of pws) expect(v, text).toMatch(/Hunter2Secret(?:!|%21)/);
    expect(evaluatePolicy(countByType(detect(text))).decision, text).toBe('BLOCKED');
  });

  it('masks the value only, never the name', () => {
    expect(masked(`DB_PASSWORD=${PW}`)).toBe('DB_PASSWORD=[PASSWORD]');
    expect(masked(`Server=db;User Id=sa;Password=${PW};`)).toBe('Server=db;User Id=sa;Password=[PASSWORD];');
    expect(masked(`https://api.example.com/login?user=bob&password=${PW}&next=/`)).toBe('https://api.example.com/login?user=bob&password=[PASSWORD]&next=/');
    expect(masked(`{"password": "${PW}", "user": "bob"}`)).toBe('{"password": "[PASSWORD]", "user": "bob"}');
    expect(masked(`bob:${PW}@tcp(db.internal:3306)/prod`)).toBe('bob:[PASSWORD]@tcp(db.internal:3306)/prod');
    expect(masked(`mysql -u root -p${PW} db`)).toBe('mysql -u root -p[PASSWORD] db');
    expect(masked('mysql -pS3cr3tPw; ls')).toBe('mysql -p[PASSWORD]; ls');
    expect(masked(`password%3D${PW.replace('!', '%21')}`)).toBe('password%3D[PASSWORD]');
    expect(masked(`<password>${PW}</password>`)).toBe('<password>[PASSWORD]</password>');
  });

  it('a quoted value holding an escaped quote is read whole', () => {
    expect(passwords('{"password": "Hun\\"ter2!x", "user": "bob"}')).toEqual([['PASSWORD', 'Hun\\"ter2!x']]);
  });

  it('masked output scanned again finds nothing', () => {
    for (const text of [`DB_PASSWORD=${PW}`, `{"password": "${PW}"}`, `bob:${PW}@tcp(db:3306)/x`, `mysql -p${PW}`])
      expect(found(masked(text)), text).toEqual([]);
  });

  it('value shapes: a letter and a digit or symbol, 6+; digits alone 6+; letters alone never', () => {
    for (const value of ['hunter2', 'abc123', 'S3cr3t', 'P@ss!x', '123456', '20240101', 'p@ss/w0rd#1'])
      expect(passwords(`password=${value}`), value).toEqual([['PASSWORD', value]]);
    // A door's or a voicemail's code is digits alone as often as not.
    expect(passwords('door passcode: 481516')).toEqual([['PASSWORD', '481516']]);
    // Quoted or not: a component's or a type's name ("PasswordInput", "SecureString") as often as one.
    for (const value of ['sunShineX', 'hunterTwoSecret']) expect(passwords(`password: "${value}"`), value).toEqual([]);
    // Too short, a word, words joined by "-", "_" or ".", a number of a few digits, a date-like run.
    for (const value of ['abc12', 'hunter', 'postgres', 'my-secret-pw', 'auto-generated', 'password_input', 'not.set', '12345', '2024-01-01', '10.0.0.1'])
      expect(passwords(`password=${value}`), value).toEqual([]);
    // A quoted label or dictionary word is no password: "Passwort" in a translation file, a lower-case word.
    for (const value of ['Passwort', 'sunshine', 'Kennwort', 'REQUIRED']) expect(passwords(`"password": "${value}"`), value).toEqual([]);
  });

  it('a name whose last segment is not the password itself names no password', () => {
    for (const name of [
      'password_hash',
      'password_reset',
      'password_length',
      'passwordPolicy',
      'password_expiry',
      'PASSWORD_EXPIRY',
      'password-stdin',
      'password_file',
      'passwords',
      'passwordless',
      '--pass',
      'passport',
      'compass',
    ])
      expect(passwords(`${name}=${PW}`), name).toEqual([]);
    expect(passwords(`docker login --password-stdin ${PW}`)).toEqual([]);
    // "pass" alone names a password ({"user":"bob","pass":"..."}), its value judged as any.
    expect(passwords(`pass=1 and pass=${PW}`)).toEqual([['PASSWORD', PW]]);
  });

  it('placeholders, references and code are no password', () => {
    for (const text of [
      'password=',
      'password=""',
      "password=''",
      'password=${DB_PASSWORD}',
      'password=$DB_PASSWORD',
      'password=%DB_PASSWORD%',
      'password={{ db_password }}',
      'password: {{ vault_db_password }}',
      'password=<your-password>',
      'password=[PASSWORD]',
      'DB_PASSWORD=[PASSWORD]',
      'password=********',
      'password=xxxxxxxx',
      'password=...',
      'password=password',
      'password=secret',
      'password=null',
      'password: None',
      'password=undefined',
      'password=changeme',
      'password: your_password',
      'password: "your-password-here"',
      'password = os.getenv("DB_PASSWORD")',
      'password = os.environ.get("DB_PASSWORD", "x")',
      'password: process.env.DB_PASSWORD',
      'password: process.env.DB_PASSWORD!,',
      'password = env("DB_PASSWORD")',
      'password=password',
      'password: string',
      'password: string;',
      'password: Optional[str] = None',
      "password = request.form['password']",
      '$password = $_POST["password"];',
      'password: ${{ secrets.DB }}',
      'password=$(cat /run/secrets/db)',
      'password: !vault |',
      'password: *db_password',
      'password_file=/run/secrets/db_password',
      'password: /run/secrets/db_password',
      'PWD=/home/bob/src/app2',
      'OLDPWD=/home/bob',
      'password: z.string().min(8)',
      "'password' => Hash::make($request->password),",
      'password: this.password,',
      'password = getpass.getpass()',
      'password: hashedPassword,',
      'password: "${DB_PASSWORD}"',
      'password: "{{ .Values.db.password }}"',
      'password = f"{prefix}{suffix}"',
    ])
      expect(passwords(text), text).toEqual([]);
  });

  it('prose about passwords is no password', () => {
    for (const text of [
      'Reset your password: click the link below.',
      'password: required',
      'Password: at least 8 characters',
      'the password is wrong',
      'Password: must contain a digit',
      'Forgot password? Reset it here: https://example.com/reset',
      'PasswordAuthentication yes',
      'grep bob /etc/passwd',
      '/etc/passwd:bob:x:1000:1000:Bob:/home/bob:/bin/bash',
      '"password": "Enter your password"',
      '"password": "Mot de passe"',
      'mysql -u root -p db',
      'mysql -u root -p',
      'psql -p5432 -h db',
      'ssh -p2222 host',
      'mysql -u root -p db and psql -p5432 -h db',
      'run mysql then ssh -p2222 host',
      'machine api.example.com login bob password reset',
      'the password SHA-256 hashed',
      'Enter the passcode sent to your phone',
      'the passcode is wrong',
      'passcode: required',
      'passcode_length=6',
      'passcodes are rotated weekly',
      'bypasscode=1',
    ])
      expect(passwords(text), text).toEqual([]);
  });

  it('a URL with a password in its user part and as a query parameter: each once', () => {
    expect(passwords(`https://bob:Userinfo9@api.example.com/login?password=${PW}`)).toEqual([
      ['PASSWORD', 'Userinfo9'],
      ['PASSWORD', PW],
    ]);
    // A user named like the field is the URL's user, not a name of a password.
    expect(passwords('postgres://db_password:S3cr3tPw@db/x')).toEqual([['PASSWORD', 'S3cr3tPw']]);
  });

  it('a secret beats personal data inside the value', () => {
    expect(found('password=4155552671')).toEqual([['PASSWORD', '4155552671']]);
    expect(found('email: jane@example.com password: Hunter2Secret!')).toEqual([
      ['EMAIL', 'jane@example.com'],
      ['PASSWORD', PW],
    ]);
  });

  it('a Go DSN needs its protocol: a pair before any host is no DSN', () => {
    expect(passwords('user:hunter2@db has no scheme')).toEqual([]);
    expect(passwords('bob:password@tcp(db:3306)/x')).toEqual([]);
    expect(passwords('bob:${DB_PASS}@tcp(db:3306)/x')).toEqual([]);
  });

  it('the audit-record guard refuses such a value in any field, with "_" in it too', () => {
    const base = { preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0', summary: 'Detected PASSWORD; blocked.' };
    expect(guardAgentRecord(base)).toEqual([]);
    for (const summary of [`DB_PASSWORD=${PW}`, 'password=Hunter_2_Secret', 'Server=db;Pwd=Hunter2Secret!;', 'DB_PASSWORD=[PASSWORD] masked']) {
      const v = guardAgentRecord({ ...base, summary });
      if (summary.includes('[PASSWORD]')) expect(v, summary).toEqual([]);
      else expect(v.map((x) => x.message).join(), summary).toContain('PASSWORD');
    }
    expect(guardAgentRecord({ ...base, destination: `password=${PW}` }).map((x) => x.path)).toEqual(['/destination']);
  });

  it('stays linear on 1 MiB of adversarial input, with the right answer', () => {
    // Every "password=a1b2c3 " holds one password: all are found, each on its own.
    expect(detectNamedPasswords(fillMiB('password=a1b2c3 '))).toHaveLength(MiB / 16);
    expect(detectNamedPasswords(fillMiB('a:b2c3d4@tcp( '))).toHaveLength(Math.floor(MiB / 14));
    for (const text of [
      fillMiB('password'),
      fillMiB('password='),
      fillMiB('pwd:'),
      fillMiB('passwordpassword_'),
      `password=${fillMiB('a1')}`,
      `password="${fillMiB('a1')}`,
      `${fillMiB('a_')}password=x`,
      fillMiB('mysql -p'),
      `mysql ${fillMiB(' ')}-pX1`,
      fillMiB('<password>'),
      fillMiB('- name: PASSWORD '),
      `${fillMiB('b')}:c@tcp(`,
    ]) {
      // A value is read up to its bound, never past it: whatever is found here is short.
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
    }
  });
});

describe('named passwords: the attacker review', () => {
  it('a percent-encoded form body is read as written too, masking the escapes with the value', () => {
    for (const [text, value] of [
      ['username=bob&password=Zq8v%20T2xk', 'Zq8v%20T2xk'],
      ['username=bob&password=Ab1%23xyz99', 'Ab1%23xyz99'],
      ['username=bob&password=Ab%26c1xyz99', 'Ab%26c1xyz99'],
      ['username=bob&password=Ab%3Bc1xyz99', 'Ab%3Bc1xyz99'],
      ['username=bob&password=Ab%2Cc1xyz99', 'Ab%2Cc1xyz99'],
      ['username=bob&password=Ab%22c1xyz99', 'Ab%22c1xyz99'],
      ['username=bob&password=Ab%3Cc1xyz99', 'Ab%3Cc1xyz99'],
      ['username=bob&password=Zq8vT2xk%26', 'Zq8vT2xk%26'],
      ['password=Zq8vT2xk%26', 'Zq8vT2xk%26'],
    ] as const) {
      expect(passwords(text), text).toEqual([['PASSWORD', value]]);
      expect(masked(text), text).toBe(text.replace(value, '[PASSWORD]'));
    }
    for (const text of [
      'username=bob&password=%24%7BDB_PASSWORD%7D',
      'username=bob&password=Enter%20your%20password',
      'q=a%20b&password=hello%20world',
      // Read as written, the escapes must not make a short or letters-only value look like one.
      'x=1&password=%22abcdefg%22',
      'password=%22abcdef%22',
      '{"msg":"set password=\\"abc\\" for user"}',
    ])
      expect(passwords(text), text).toEqual([]);
    expect(masked('{"msg":"password=\\"Zq8v\\\\\\"-T2xk\\" ok"}')).toBe('{"msg":"password=\\"[PASSWORD]\\" ok"}');
  });

  it('a value runs past ; , } quotes and < where its context does not end it', () => {
    expect(masked('password=Zq8vT2;xk9')).toBe('password=[PASSWORD]');
    expect(passwords('DB_PASSWORD=x7;Kp9!mQ2')).toEqual([['PASSWORD', 'x7;Kp9!mQ2']]);
    expect(passwords('password: a1,B2c3D4e5')).toEqual([['PASSWORD', 'a1,B2c3D4e5']]);
    expect(passwords('db:\n  password: a1}B2c"3D<4e5 # the db')).toEqual([['PASSWORD', 'a1}B2c"3D<4e5']]);
    expect(passwords('export DB_PASSWORD=x7;Kp9!mQ2\nFOO=1')).toEqual([['PASSWORD', 'x7;Kp9!mQ2']]);
    expect(passwords('POSTGRES_PASSWORD: Zq8v T2xk!')).toEqual([['PASSWORD', 'Zq8v T2xk!']]);
    // The narrower ends stay where the context needs them.
    expect(masked('/login?password=Zq8vT2xk&next=/')).toBe('/login?password=[PASSWORD]&next=/');
    expect(masked('Server=db;Password=Zq8vT2xk;Database=app')).toBe('Server=db;Password=[PASSWORD];Database=app');
    expect(masked('Password=Zq8vT2xk;Database=app')).toBe('Password=[PASSWORD];Database=app');
    expect(masked('{"password":Zq8vT2xk,"user":"bob"}')).toBe('{"password":[PASSWORD],"user":"bob"}');
    expect(masked('const o = { password: Zq8vT2xk, user }')).toBe('const o = { password: [PASSWORD], user }');
    expect(masked('PGPASSWORD=Hunter2Secret! psql -h db')).toBe('PGPASSWORD=[PASSWORD] psql -h db');
    expect(passwords('Password: at least 8 characters')).toEqual([]);
  });

  it('an escaped or doubled quote does not end a quoted value', () => {
    expect(masked('{"password":"Zq8vT2\\"-xk9"}')).toBe('{"password":"[PASSWORD]"}');
    expect(masked('{"password":"Zq8vT2\\", xk9"}')).toBe('{"password":"[PASSWORD]"}');
    expect(masked("password='Zq8vT2''xk9'")).toBe("password='[PASSWORD]'");
    expect(passwords("password='Zq8v''T2xk'")).toEqual([['PASSWORD', "Zq8v''T2xk"]]);
    expect(masked('{"password": "", "user": "bob"}')).toBe('{"password": "", "user": "bob"}');
  });

  it("ODBC's braced value is the password, a braced placeholder none", () => {
    expect(masked('Driver={ODBC Driver 18};Server=db;Pwd={Zq8vT2xk};')).toBe('Driver={ODBC Driver 18};Server=db;Pwd={[PASSWORD]};');
    expect(masked('Server=db;Pwd={Zq8v;T2xk};Uid=sa')).toBe('Server=db;Pwd={[PASSWORD]};Uid=sa');
    expect(passwords('Pwd={Zq8v}}T2xk}')).toEqual([['PASSWORD', 'Zq8v}}T2xk']]);
    for (const text of ['Server=db;Pwd={password};', 'Server=db;Password={0};', 'Server=db;Pwd={{x}};', 'Server=db;Pwd={db_password};', 'password: {a1: b2}'])
      expect(passwords(text), text).toEqual([]);
  });

  it('a confirmation names the password again, and every repeat of a found value is masked', () => {
    expect(masked('{"user":{"password":"Zq8vT2xk","password_confirmation":"Zq8vT2xk"}}')).toBe(
      '{"user":{"password":"[PASSWORD]","password_confirmation":"[PASSWORD]"}}',
    );
    expect(masked('{"newPassword":"Zq8vT2xk","confirmPassword":"Zq8vT2xk","passwordConfirmation":"Zq8vT2xk"}')).toBe(
      '{"newPassword":"[PASSWORD]","confirmPassword":"[PASSWORD]","passwordConfirmation":"[PASSWORD]"}',
    );
    for (const name of ['password_confirmation', 'passwordConfirmation', 'password_confirm', 'passwordConfirm', 'password_new', 'password_old', 'password2'])
      expect(passwords(`${name}=Zq8vT2xk`), name).toEqual([['PASSWORD', 'Zq8vT2xk']]);
    for (const name of [
      'password_hash',
      'password_reset',
      'password_policy',
      'password_file',
      'password_length',
      'password_expiry',
      'password-stdin',
      'password_new_hash',
    ])
      expect(passwords(`${name}=Zq8vT2xk`), name).toEqual([]);
    // A value repeated in prose, in a log line after it.
    expect(masked('DB_PASSWORD=Zq8vT2xk; then login failed for Zq8vT2xk.')).toBe('DB_PASSWORD=[PASSWORD]; then login failed for [PASSWORD].');
    // Inside a longer finding the longer one masks it whole; a short value is not looked for again.
    expect(masked('password=Zq8vT2xk and mail Zq8vT2xk@example.com')).toBe('password=[PASSWORD] and mail [EMAIL]');
    expect(masked('postgres://u:ab1@db/x and ab1 again')).toBe('postgres://u:[PASSWORD]@db/x and ab1 again');
  });

  it('format verbs, binds, rules, secret references, labels, dates, versions and algorithms are no password', () => {
    for (const text of [
      'dsn := fmt.Sprintf("%s:%s@tcp(%s:%d)/%s", user, pass, host, port, db)',
      'bob:%s@tcp(%s)/%s',
      'bob:%v@tcp(db:3306)/x',
      'bob:{}@tcp(db:3306)/x',
      'password=%[1]s',
      'password: "{0}"',
      'mysql -u root -p%s db',
      'SELECT * FROM users WHERE password = :password',
      'WHERE Password = @Password',
      'WHERE pwd = @p_password1',
      'WHERE password = :pw_hash1',
      "'password' => 'required|string|min:8|confirmed',",
      '"password": "required|min:8"',
      'mysql -u root -pchangeme',
      'mysql -u root -pexample',
      'mysql -u root -pYOUR_PASSWORD',
      'mysql -u root -p"$MYSQL_PWD"',
      'mysql -u root -p${MYSQL_PWD}',
      "mysql -u root -p'your password'",
      'bob:changeme@tcp(db:3306)/x',
      'password: op://Private/db/password',
      'password: vault:secret/data/db#password',
      'password: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
      'password: file:/run/secrets/db',
      'password: env:DB_PASSWORD',
      'password: secretRef:db-pw',
      'password: ref+vault://secret/db#pw',
      'password: sm://proj1/db-pw',
      '"password": "Password:"',
      '"password": "Password*"',
      '"password": "PasswordInput"',
      '"password": "PasswordField"',
      '"password": "SecureString"',
      '"password": "TextInput"',
      '"password": "hunterTwoSecret"',
      'password_changed_at: 2024-01-01T00:00:00Z',
      'password: 2024-01-01T00:00:00Z',
      'password: v1.2.3',
      'password: sha-256',
      'password: AES-256',
      'password: argon2id',
      'password: base64',
      'password: x86_64',
      'password: utf8mb4',
      'pwd=.\\build',
      'password_value=Zq8vT2xk',
    ])
      expect(passwords(text), text).toEqual([]);
  });

  it('the guard and preflight agree on placeholders and paths', () => {
    for (const text of ['mysql -u root -pYOUR_PASSWORD', 'mysql -u root -p"$MYSQL_PWD"', 'mysql -u root -p${MYSQL_PWD}', 'password_value=X', 'pwd=.\\build'])
      expect(refusedAs(text), text).toEqual([]);
    for (const text of ['username=bob&password=Zq8v%20T2xk', 'DB_PASSWORD=x7;Kp9!mQ2', 'Server=db;Pwd={Zq8v;T2xk};'])
      expect(refusedAs(text), text).toContain('PASSWORD');
  });

  it('names ending in _pass, SQL, call arguments and command lines', () => {
    for (const [text, value] of [
      ['DB_PASS=Zq8vT2xk', 'Zq8vT2xk'],
      ['SMTP_PASS: Zq8vT2xk', 'Zq8vT2xk'],
      ['RABBITMQ_DEFAULT_PASS=Zq8vT2xk', 'Zq8vT2xk'],
      ['ansible_become_pass=Zq8vT2xk', 'Zq8vT2xk'],
      ['host1 ansible_ssh_pass=Zq8vT2xk', 'Zq8vT2xk'],
      ["CREATE USER app WITH PASSWORD 'Zq8vT2xk';", 'Zq8vT2xk'],
      ["ALTER USER u PASSWORD 'Zq8vT2xk'", 'Zq8vT2xk'],
      ["CREATE USER 'app'@'%' IDENTIFIED BY 'Zq8vT2xk';", 'Zq8vT2xk'],
      ["ALTER USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY 'Zq8vT2xk';", 'Zq8vT2xk'],
      ["SET PASSWORD FOR 'u'@'%' = 'Zq8vT2xk';", 'Zq8vT2xk'],
      ["define('DB_PASSWORD', 'Zq8vT2xk');", 'Zq8vT2xk'],
      ['props.setProperty("password", "Zq8vT2xk");', 'Zq8vT2xk'],
      ["os.environ.setdefault('DB_PASSWORD', 'Zq8vT2xk')", 'Zq8vT2xk'],
      ['config.set("db.password", "Zq8vT2xk")', 'Zq8vT2xk'],
      ['curl -u bob:Zq8vT2xk https://api.example.com', 'Zq8vT2xk'],
      ['curl -s --user bob:Zq8vT2xk https://api.example.com', 'Zq8vT2xk'],
      ['curl https://api.example.com -u bob:Zq8vT2xk', 'Zq8vT2xk'],
      ['docker login -u bob -p Zq8vT2xk ghcr.io', 'Zq8vT2xk'],
      ['sshpass -p Zq8vT2xk ssh bob@host', 'Zq8vT2xk'],
      ['redis-cli -h cache -p 6379 -a Zq8vT2xk ping', 'Zq8vT2xk'],
      ['POSTGRES_PASSWORD: "Zq8v T2xk!"', 'Zq8v T2xk!'],
    ] as const)
      expect(passwords(text), text).toEqual([['PASSWORD', value]]);
    // "pass" alone names a password as a key (a form's, a JSON body's), not in prose after ":".
    expect(passwords('pass=Zq8vT2xk')).toEqual([['PASSWORD', 'Zq8vT2xk']]);
    for (const text of [
      'compass_pass',
      'openssl enc -pass pass:Zq8vT2xk',
      "the password 'reset' link",
      'curl -u bob https://api.example.com',
      'redis-cli -h cache -p 6379 ping',
      'ssh -p 2222 host',
      '"password": "Enter your password"',
      '"password": "at least 8 characters"',
      'docker login -u bob --password-stdin',
    ])
      expect(passwords(text), text).toEqual([]);
  });

  it('a hash under a password name is reported', () => {
    expect(passwords('password=$2b$12$KIXQJQ1u9x9n8mJvKx7QeO6b3zZ8vZpP5Q3J8GmXJ3u5fFJ0p1Qe')).toHaveLength(1);
  });

  it("a repeat is the value again as a whole word, never the URL's own user, scheme or database", () => {
    // Letters alone are as often the URL's other parts as its password: only the password is masked.
    expect(masked('postgres://postgres:postgres@localhost:5432/postgres')).toBe('postgres://postgres:[PASSWORD]@localhost:5432/postgres');
    expect(countByType(detect('postgres://postgres:postgres@localhost:5432/postgres'))).toEqual({ PASSWORD: 1 });
    // A value with a digit or symbol is the password wherever it stands alone.
    expect(masked('amqp://guest:guest123@rabbit:5672/ then login as guest123')).toBe('amqp://guest:[PASSWORD]@rabbit:5672/ then login as [PASSWORD]');
    // Inside a longer word or number it is part of that, not the password again.
    expect(masked('pwd=123456 order 99123456781 phone 5551234567 and 123456.')).toBe('pwd=[PASSWORD] order 99123456781 phone 5551234567 and [PASSWORD].');
    expect(masked('pwd=1234567 ticket INC1234567 ref 1234567')).toBe('pwd=[PASSWORD] ticket INC1234567 ref [PASSWORD]');
    expect(masked('password: abc123x then abc123xyz and xabc123x')).toBe('password: [PASSWORD] then abc123xyz and xabc123x');
  });

  it('a later word assigned a value of its own starts the next pair', () => {
    expect(passwords('password=Secret_1 key=Secret_1_backup')).toEqual([['PASSWORD', 'Secret_1']]);
    expect(passwords('POSTGRES_PASSWORD: Zq8v T2xk!')).toEqual([['PASSWORD', 'Zq8v T2xk!']]);
  });

  it("SQL Server's, MongoDB's and OpenLDAP's command-line passwords", () => {
    expect(passwords('sqlcmd -S db -U sa -P Secret123! -Q "select 1"')).toEqual([['PASSWORD', 'Secret123!']]);
    expect(passwords('mongosh "mongodb://db" -u admin -p Adm1n2024')).toEqual([['PASSWORD', 'Adm1n2024']]);
    expect(passwords('ldapsearch -x -D cn=admin -w Adm1nPass! -b dc=x')).toEqual([['PASSWORD', 'Adm1nPass!']]);
    // -W asks for the password; sqlcmd's -p prints statistics; a placeholder is none.
    expect(passwords('ldapsearch -x -D cn=admin -W -b dc=x')).toEqual([]);
    expect(passwords('sqlcmd -S db -U sa -p -P $SA_PASSWORD')).toEqual([]);
  });

  it('stays linear on hostile closing brackets and the new contexts', () => {
    for (const unit of [
      'pwd=' + ')'.repeat(252) + ' ',
      'pwd=' + '])'.repeat(126) + ' ',
      'pwd=a' + ')'.repeat(251) + ' ',
      'Pwd={',
      '  pwd=a1 ',
      'curl -u a:',
      "pwd='a''",
      'curl -u ',
      'curl --user ',
      'a:b@tcp(h)/d ' + '='.repeat(64) + ':' + '='.repeat(128),
    ])
      expect(longestFinding(fillMiB(unit)), unit.slice(0, 12)).toBeLessThanOrEqual(256);
  });
});

describe('a secret found by its name, its header or its place', () => {
  const S = 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB';
  const blocked = (text: string) => evaluatePolicy(countByType(detect(text))).decision === 'BLOCKED';
  it.each([
    ['client_secret', `client_secret=${S}`, S],
    ['a JSON client-secret', `{"client-secret": "${S}"}`, S],
    ['a JSON secret', `{"secret":"${S}"}`, S],
    ['Django SECRET_KEY', 'SECRET_KEY=django-insecure-k9#vq2!ml7pr4tw8zn3bv5cy1ab6de0fg', 'django-insecure-k9#vq2!ml7pr4tw8zn3bv5cy1ab6de0fg'],
    ['x-api-key header', `x-api-key: ${S}`, S],
    ['api_key', `api_key=${S}`, S],
    ['JSON apiKey', `{"apiKey":"${S}"}`, S],
    ['Authorization: Bearer', `Authorization: Bearer ${S}`, S],
    ['Authorization: Token', `Authorization: Token ${S}`, S],
    ['an OAuth callback', `GET /callback?access_token=${S}&state=1`, S],
    ['a JSON refresh_token', '{"refresh_token":"1//0gXk9vQ2mL7pR4tW8zN3bV5cY1aB"}', '1//0gXk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['a Cookie header', 'Cookie: sessionid=8f2k3m9q7x1v5b4n6c0z2l8p4r6t9w1y', '8f2k3m9q7x1v5b4n6c0z2l8p4r6t9w1y'],
    ['a Set-Cookie header', `Set-Cookie: session=${S}; Path=/; HttpOnly`, S],
    ['an .npmrc', `//registry.npmjs.org/:_authToken=${S}`, S],
    [
      'an Azure AccountKey',
      'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net',
      'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
    ],
    ['an Azure SharedAccessKey', `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${S}=`, `${S}=`],
    ['a SAS URL', `https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sr=b&sp=r&sig=${S}%2Fq0%3D`, `${S}%2Fq0%3D`],
    [
      'a presigned URL',
      `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE${S}%2F&X-Amz-Expires=300`,
      `IQoJb3JpZ2luX2VjE${S}%2F`,
    ],
    ['STS JSON', `{"SessionToken":"IQoJb3JpZ2luX2VjE${S}"}`, `IQoJb3JpZ2luX2VjE${S}`],
    ['VAULT_TOKEN', `VAULT_TOKEN=hvs.CAES${S}`, `hvs.CAES${S}`],
    ['a password in prose', 'my password is Hunter2!x', 'Hunter2!x'],
    ['a password in prose, for a thing', 'the password for the prod db is Hunter2x9', 'Hunter2x9'],
    ['a JSON pass', '{"user":"bob","pass":"Hunter2!x"}', 'Hunter2!x'],
    ['YAML pass', 'pass: Hunter2x9', 'Hunter2x9'],
    ['pw', 'pw=Hunter2!x', 'Hunter2!x'],
    ['a query pw', 'https://x.example.com/login?user=bob&pw=Hunter2x9', 'Hunter2x9'],
    ['an Oracle JDBC URL', 'jdbc:oracle:thin:scott/Tiger2x9@db:1521:ORCL', 'Tiger2x9'],
    ['sqlplus', 'sqlplus scott/Tiger2x9@orcl', 'Tiger2x9'],
    ['sqlplus, an EZConnect address', 'sqlplus system/Hunter2x9@//db.example.com:1521/ORCLPDB1', 'Hunter2x9'],
  ])('%s: reported as PASSWORD, and blocked', (_name, text, value) => {
    expect(passwords(text), text).toEqual([['PASSWORD', value]]);
    expect(blocked(text), text).toBe(true);
  });

  it.each([
    'token expired',
    'api_key rotated by admin',
    'secret: REDACTED',
    'client_secret=<your-secret>',
    'access_token=${TOKEN}',
    'Authorization: Bearer <token>',
    'Authorization: Bearer token',
    'password is required',
    'password is too short',
    'the password for user bob is not set',
    'https://acme.blob.core.windows.net/c/b.txt?sv=2022&sig=abc',
    'https://x.example.com/?sig=signature',
    'Set-Cookie: session=expired; Path=/',
    'the secret santa list is out',
    'token bucket refilled',
    'api_key: my-secret-api-key-2024',
    '{"nextPageToken": "CiAKGjBpNDd2Nmp2Zml2cXRhcGNxZmlr"}',
    'secret_key: settings.SECRET_KEY',
    'bearer tokens are sent in the Authorization header',
    'you shall not pass: wait',
    'boarding pass: AB12345C',
    '--- PASS: TestParse/case_1 (0.00s)',
    'sqlplus / as sysdba',
  ])('%s: no finding', (text) => {
    expect(found(text), text).toEqual([]);
  });

  it('masks the value only, and the mask scanned again finds nothing', () => {
    expect(masked(`Authorization: Bearer ${S}`)).toBe('Authorization: Bearer [PASSWORD]');
    expect(masked(`x-api-key: ${S}`)).toBe('x-api-key: [PASSWORD]');
    expect(masked('sqlplus scott/Tiger2x9@orcl')).toBe('sqlplus scott/[PASSWORD]@orcl');
    expect(masked('my password is Hunter2!x')).toBe('my password is [PASSWORD]');
    for (const text of [`Authorization: Bearer ${S}`, `client_secret=${S}`, 'Cookie: sessionid=8f2k3m9q7x1v5b4n6c0z2l8p4r6t9w1y', 'my password is Hunter2!x'])
      expect(found(masked(text)), text).toEqual([]);
  });

  it('the audit-record guard refuses a named secret in summary and actor_id', () => {
    const base = { preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0', summary: 'Detected PASSWORD; blocked.' };
    for (const text of [`client_secret=${S}`, `Authorization: Bearer ${S}`, `VAULT_TOKEN=hvs.CAES${S}`, 'sqlplus scott/Tiger2x9@orcl']) {
      expect(
        guardAgentRecord({ ...base, summary: text })
          .map((x) => x.message)
          .join(),
        text,
      ).toContain('PASSWORD');
      expect(
        guardAgentRecord({ ...base, actor_id: text })
          .map((x) => x.message)
          .join(),
        text,
      ).toContain('PASSWORD');
    }
  });

  it('stays linear on 1 MiB of adversarial input', () => {
    for (const text of [
      fillMiB('api_key='),
      fillMiB('token'),
      fillMiB('bearer '),
      fillMiB('Cookie: a=b; '),
      fillMiB('sqlplus a/'),
      fillMiB('password is '),
      fillMiB('password for a '),
      `Cookie: ${fillMiB('sid=x;')}`,
      fillMiB('?sig='),
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named secrets: the false-positive review', () => {
  it.each([
    // A .NET assembly's public key token is public, and pagination-like tokens are no credential.
    "Could not load file or assembly 'Newtonsoft.Json, Version=13.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed'",
    '<assemblyIdentity name="Newtonsoft.Json" publicKeyToken="30ad4fe6b2a6aeed" culture="neutral" />',
    'System.Runtime, PublicKeyToken=b03f5f7f11d50a3a',
    'etag_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    '{"watermarkToken": "Xk9vQ2mL7pR4tW8zN3bV5cY1aB"}',
    'start_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'aws s3api list-objects --starting-token Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'trace-token: Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'correlation_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    // Words with a number glued on, and CamelCase names, are no random run.
    'existingSecret: keycloak-db-credentials01',
    'existingSecret: postgresql-credentials2024',
    'secret: app-tls-certificate2024',
    'secret: kv-prod-eastus2-Secrets01',
    'token: Function1234567890',
    'pw=1920x1080',
    // Cookies whose names only hold a session word's letters, and CSRF cookies.
    'Cookie: sidebar_state=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Cookie: consider_pref=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Cookie: comment_author_email_5c1e0f4a=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Cookie: authorization_method=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Cookie: last_login_country=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Cookie: csrftoken=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Set-Cookie: XSRF-TOKEN=Xk9vQ2mL7pR4tW8zN3bV5cY1aB; Path=/',
    'Cookie: next-auth.csrf-token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    // A redacted JWT and a digest with its algorithm are no secret.
    'Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.REDACTED.REDACTED',
    '{"token": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}',
  ])('%s: no PASSWORD', (text) => {
    expect(passwords(text), text).toEqual([]);
  });

  it.each([
    // The review's misses: weak passwords under a bare pass or pw (words and a number are their usual
    // shape), auth cookies whose names end in "auth", random letters with digits at an end.
    // Other schemes in an Authorization header: a Splunk HEC token, Elasticsearch's and Okta's keys.
    ['Authorization: Splunk 5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f', '5f8d1c2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f'],
    [
      'curl -H "Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="',
      'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
    ],
    ['Authorization: SSWS 00QCjAl4MlV-WPXM7Cuh6Yah2mFOCsLkd0c5ELoc2q', '00QCjAl4MlV-WPXM7Cuh6Yah2mFOCsLkd0c5ELoc2q'],
    ['pass=Summer_2024', 'Summer_2024'],
    ['pass: Welcome-2024', 'Welcome-2024'],
    ['https://x.example/login?user=bob&pw=Summer_2024', 'Summer_2024'],
    ['pass: check_schema_v2', 'check_schema_v2'],
    ['Cookie: .ASPXAUTH=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: ESTSAUTHPERSISTENT=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: CFAUTHORIZATION_app=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: OAMAuthnCookie=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: sessionkey=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['api_key=kcbkyiigophkofuivpvl2676', 'kcbkyiigophkofuivpvl2676'],
    ['api_key=zjcDleYqzlXUWTRQDW89', 'zjcDleYqzlXUWTRQDW89'],
    ['kickstart_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: PHPSESSID=8f2k3m9q7x1v5b4n6c0z2l8p4r6t9w1y', '8f2k3m9q7x1v5b4n6c0z2l8p4r6t9w1y'],
    ['Cookie: JSESSIONID=8F2K3M9Q7X1V5B4N6C0Z2L8P4R6T9W1Y', '8F2K3M9Q7X1V5B4N6C0Z2L8P4R6T9W1Y'],
    ['Cookie: connect.sid=s%3AXk9vQ2mL7pR4tW8zN3bV5cY1aB', 's%3AXk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: laravel_session=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: __Secure-next-auth.session-token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: ASP.NET_SessionId=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: remember_web_59ba36addc2b2f94=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: SSESS4f3a9c2b7e1d=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: __Secure-3PSID=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: authToken=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: jwt=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: _shibsession_64656661756c74=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: _oauth2_proxy=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: AWSELBAuthSessionCookie-0=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: _gh_sess=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: remember_user_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['access_token=550e8400-e29b-41d4-a716-446655440000', '550e8400-e29b-41d4-a716-446655440000'],
    ['api_key=9f86d081884c7d659a2feaa0c55ad015', '9f86d081884c7d659a2feaa0c55ad015'],
    ['secret: Xk9vQ2mL7pR4tW8zN3bV2024', 'Xk9vQ2mL7pR4tW8zN3bV2024'],
    ['pass: Summer2024', 'Summer2024'],
    ['pw=Hunter2x9', 'Hunter2x9'],
    ['auth_token=Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
  ])('%s: still PASSWORD', (text, value) => {
    expect(passwords(text), text).toEqual([['PASSWORD', value]]);
  });

  it('a whole JWT after Bearer is still found (as a JWT), a redacted one is none', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r';
    expect(found(`Authorization: Bearer ${jwt}`)).toEqual([['JWT', jwt]]);
    expect(found('Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.REDACTED.REDACTED')).toEqual([]);
    expect(found('Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.[redacted]')).toEqual([]);
  });
});

describe('named secrets: the gaps review', () => {
  const S = 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB';
  const HEX = '9f86d081884c7d659a2feaa0c55ad015';
  it.each([
    // A YAML block scalar: the value on the next, more indented line (as written, a break or an escaped one).
    ['password: |\n  s3cr3tV4lue9', 's3cr3tV4lue9'],
    ['password: >-\n  s3cr3tV4lue9', 's3cr3tV4lue9'],
    ['db:\n  password: |\n    s3cr3tV4lue9\n  user: bob', 's3cr3tV4lue9'],
    [`client_secret: |-\r\n  ${S}\r\n`, S],
    ['{"values": "db:\\n  password: |\\n    s3cr3tV4lue9\\n  user: bob"}', 's3cr3tV4lue9'],
    // Prose with a colon after "is", and a secret's name in prose.
    ['the password is: Hunter2Xy9q', 'Hunter2Xy9q'],
    ['api key is: 8f3kd93ks0d9f3k2', '8f3kd93ks0d9f3k2'],
    ['the API key is 8f3kd93ks0d9f3k2', '8f3kd93ks0d9f3k2'],
    [`the client secret for prod is ${S}`, S],
    // curl's cookies.
    [`curl -b 'session=${S}' https://x.example.com`, S],
    [`curl --cookie "theme=dark; sid=${S}" https://x.example.com`, S],
    [`curl -s -b sessionid=${S} https://x.example.com`, S],
    [`curl -H 'Cookie: sessionid=${S}' https://x.example.com`, S],
    // Names with a number, a version or an environment after them.
    [`API_KEY_1=${S}`, S],
    [`client_secret_v2: ${S}`, S],
    [`SECRET_KEY_PROD=${S}`, S],
    [`{"clientSecretV2": "${S}"}`, S],
    ['DB_PASSWORD_2=Hunter2Secret!', 'Hunter2Secret!'],
    ['DB_PASSWORD2=Hunter2Secret!', 'Hunter2Secret!'],
    // More names.
    [`Ocp-Apim-Subscription-Key: ${HEX}`, HEX],
    [`curl -H "Ocp-Apim-Subscription-Key: ${HEX}" https://x.azure-api.net/v1`, HEX],
    [`signing_key: ${S}`, S],
    [`{"type": "service_account", "private_key": "${S}"}`, S],
    [`secret_key=${S}`, S],
    [`app.secret_key = "${S}"`, S],
    [`x-api-key: ${S}`, S],
  ])('%s: PASSWORD', (text, value) => {
    expect(passwords(text), text).toEqual([['PASSWORD', value]]);
    expect(masked(text), text).not.toContain(value);
  });

  it.each([
    'password: |\nHunter2Xy9q',
    'password: |\nusername: bob',
    'db:\n  password: |\n  user: bob',
    'password: |  s3cr3tV4lue9',
    'password: > 8 characters',
    'password is: required',
    'the api key is: not set',
    'API_KEY_1 is not set',
    'API_KEY_1=',
    'private_key: null',
    'private_key: /etc/ssl/private/app.key',
    'signing_key: ${SIGNING_KEY}',
    'secret_key=<redacted>',
    'passwords: 3 changed',
    'curl -b cookies.txt https://x.example.com',
    'curl -b "theme=dark; lang=en" https://x.example.com',
    "curl -b 'session=expired' https://x.example.com",
    'git checkout -b session=Xk9vQ2mL7pR4tW8zN3bV5cY1aB',
    'Ocp-Apim-Subscription-Key: <your-subscription-key>',
    'the token is expired',
    'the api key is required',
    `SECRET_KEY_TEST=my-secret-api-key-2024`,
  ])('%s: no PASSWORD', (text) => {
    expect(passwords(text), text).toEqual([]);
  });

  it('masks a block scalar, a cookie option and a numbered name in place, and the guard refuses them', () => {
    expect(masked('db:\n  password: |\n    s3cr3tV4lue9\n  user: bob')).toBe('db:\n  password: |\n    [PASSWORD]\n  user: bob');
    expect(masked(`curl -b 'session=${S}' https://x.example.com`)).toBe("curl -b 'session=[PASSWORD]' https://x.example.com");
    expect(masked(`API_KEY_1=${S}`)).toBe('API_KEY_1=[PASSWORD]');
    const base = { preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1.0' };
    for (const summary of ['password: |\n  s3cr3tV4lue9', `curl --cookie "sid=${S}" https://x.example.com`, 'the password is: Hunter2Xy9q'])
      expect(
        guardAgentRecord({ ...base, summary })
          .map((x) => x.message)
          .join(),
        summary,
      ).toContain('PASSWORD');
  });

  it('a bare secret_key in a Terraform aws block is still the AWS secret key', () => {
    const key = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/Ab';
    expect(found(`provider "aws" {\n  secret_key = "${key}"\n}`)).toEqual([['AWS_SECRET_KEY', key]]);
  });

  it('stays linear on 1 MiB of block scalars, cookie options and suffixed names', () => {
    for (const text of [
      fillMiB('password: |\n'),
      fillMiB('password: |\n  '),
      fillMiB('password: |\\n  a1'),
      fillMiB('api key is: '),
      fillMiB('curl -b a=b;'),
      `curl -b '${fillMiB('sid=x; ')}`,
      fillMiB('API_KEY_1_'),
      fillMiB('secret_v2'),
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named secrets: the gaps review, second round', () => {
  const S = 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB';
  const V = 's3cr3tV4lue9';

  it.each([
    // A block scalar in a JSON string ends with the string: the next fields are no part of it.
    [`{"v": "password: |\\n  ${V}", "user": "bob"}`, `{"v": "password: |\\n  [PASSWORD]", "user": "bob"}`],
    [`{"msg":"password: |\\n  ${V}","a":"one two three four five"}`, `{"msg":"password: |\\n  [PASSWORD]","a":"one two three four five"}`],
    [`{"msg":"password: |\\n  ${V}","trace":"${'x'.repeat(260)}"}`, `{"msg":"password: |\\n  [PASSWORD]","trace":"${'x'.repeat(260)}"}`],
    [`{'msg': 'password: |\\n  ${V}', 'user': 'bob'}`, `{'msg': 'password: |\\n  [PASSWORD]', 'user': 'bob'}`],
    // JSON inside JSON: the inner string closes with an escaped quote, its backslash kept.
    [
      JSON.stringify({ b: JSON.stringify({ v: `password: |\n  ${V}`, user: 'bob' }) }),
      JSON.stringify({ b: JSON.stringify({ v: 'password: |\n  [PASSWORD]', user: 'bob' }) }),
    ],
    // curl's cookie, its shell-escaped separator kept.
    [`curl -b session=${S}\\; theme=dark https://x.example.com`, `curl -b session=[PASSWORD]\\; theme=dark https://x.example.com`],
  ])('%s: masks the value only', (text, expected) => {
    expect(masked(text)).toBe(expected);
  });

  it.each([
    // A block scalar header that is none: the value read as before (a regression of the first round).
    ['password: |\\Zq8vT2xk!9', 'Zq8vT2xk!9'],
    // Block scalars: a header comment, a tag or an anchor, a blank line first, a word after, a name/value pair's, deep.
    [`password: | # the db one\n  ${V}`, V],
    [`password: !!str |\n  ${V}`, V],
    [`password: &pw |\n  ${V}`, V],
    [`password: |\n\n  ${V}`, V],
    [`password: |\n  ${V} hello`, V],
    [`- name: DB_PASSWORD\n  value: |\n    ${V}`, V],
    [`env:\n  - name: DB_PASSWORD\n    value: >-\n      ${V}\n  - name: USER`, V],
    [`${' '.repeat(32)}password: |\n${' '.repeat(34)}${V}`, V],
    // Suffixes: CamelCase environments, years, two segments, Rails' secret_key_base.
    [`ApiKeyProd=${S}`, S],
    [`clientSecretProd: ${S}`, S],
    [`client_secret_2024=${S}`, S],
    [`API_KEY_PROD_2=${S}`, S],
    [`API_KEY_V2_PROD=${S}`, S],
    ['DB_PASSWORD_PROD_1=Hunter2Secret!', 'Hunter2Secret!'],
    [`SECRET_KEY_BASE=${S}`, S],
    // Prose with no space after the colon.
    ['the password is:Hunter2Xy9q', 'Hunter2Xy9q'],
    // curl's cookie options: glued with "=", quoted so, and after other short flags.
    [`curl --cookie=sid=${S} https://x.example.com`, S],
    [`curl --cookie="theme=dark; sid=${S}" https://x.example.com`, S],
    [`curl -sb 'sid=${S}' https://x.example.com`, S],
  ])('%s: PASSWORD', (text, value) => {
    const pws = passwords(text);
    expect(pws.length, text).toBeGreaterThan(0);
    expect(pws.map(([, v]) => v).join(), text).toContain(value);
    expect(masked(text), text).not.toContain(value);
  });

  it.each([
    // A mapping nested under the name: its first key is no value.
    'password:\n  description: |\n    The password',
    'password:\n  required: true',
    'password:\n  enabled: true',
    'password:\n  type: string\n  minLength: 12',
    // A key's id names the key, it is none.
    'private_key_id: 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    // A shell pipe at a line's end is no block scalar.
    'cat secrets.txt |\n  grep token',
    'password: |\n  The password must be long',
  ])('%s: no PASSWORD', (text) => {
    expect(passwords(text), text).toEqual([]);
  });

  it("stays linear on 1 MiB of the second round's shapes", () => {
    for (const text of [
      fillMiB('password: !!str &a |\\n  a1'),
      fillMiB('password: | # c\n'),
      fillMiB('password: |\n\n'),
      fillMiB('- name: DB_PASSWORD\n  value: |\n'),
      fillMiB('API_KEY_PROD_V2_'),
      fillMiB('ApiKeyProdV2'),
      fillMiB('curl -sb a=b\\; '),
      fillMiB('curl --cookie="a=b; '),
      fillMiB('password:\n  a: '),
      fillMiB('password is:'),
      `{"v": "password: |\\n  ${fillMiB('a1 ')}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named secrets: the gaps review, third round', () => {
  const S = 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB';
  const V = 's3cr3tV4lue9';

  it.each([
    // A block scalar's key starting its line after a JSON string's escaped break ("\npassword"), not a path's name.
    [`{"file":"vars.yml","content":"---\\ndb_user: app\\ndb_password: |\\n  ${V}\\n"}`, V],
    [`{"v":"x: 1\\npassword: |\\n  ${V}\\nuser: bob"}`, V],
    // Pretty-printed JSON holding YAML: the key's indentation is the inner string's, not the JSON line's.
    [JSON.stringify({ config: `password: |\n  ${V}\n` }, null, 4), V],
    [`    config = "password: |\\n  ${V}"`, V],
    [`{"request":{"body":"stringData:\\n  password: |\\n  ${V}\\n"}}`, V],
    // A child key holding the value (a regression of the first round).
    [`password:\n  value: ${V}`, V],
    [`password:\n  value: "${V}"`, V],
    [`password:\n  default: ${V}`, V],
    [`password:\n  plain: ${V}`, V],
    [`password:\n  secret: ${V}`, V],
    // One-line values after an indicator (a regression of the first round).
    ['password: >- Zq8vT2xk!9', 'Zq8vT2xk!9'],
    ['pwd: > Zq8vT2xk!9', 'Zq8vT2xk!9'],
    ['password: >1 Zq8vT2xk!9', 'Zq8vT2xk!9'],
    // curl's cookie after its -u password.
    [`curl -u bob:${V} -b "sid=${S}" https://x.example.com`, S],
  ])('%s: PASSWORD', (text, value) => {
    const pws = passwords(text);
    expect(pws.map(([, v]) => v).join(), text).toContain(value);
    expect(masked(text), text).not.toContain(value);
  });

  it.each([
    'password:\n  minLength: 8',
    'password:\n  required: true',
    'password:\n  type: string',
    'password:\n  secretName: db-creds',
    'password:\n  existingSecret: db-creds-2024',
    'password:\n  fromSecret: db-creds-2024',
    'auth:\n  password:\n  username: admin',
    'password:\n  description: |\n    The password',
    'password: > 8 characters',
    'password: |\nusername: bob',
    'password: >-\nusername: bob1',
  ])('%s: no PASSWORD', (text) => {
    expect(passwords(text), text).toEqual([]);
  });

  it.each([
    // A value ending in an escaped backslash: the quote after it closes the string, the mask keeps it.
    [`{"v":"password: |\\n  ${V}\\\\","u":"bob"}`, '","u":"bob"}'],
    [`{"v":"password: |\\n  ${V}\\\\"}`, '"}'],
    [JSON.stringify({ b: JSON.stringify({ v: `password: |\n  ${V}\\`, u: 'bob' }) }), 'u\\":\\"bob\\"}"}'],
    // A literal "\\n" in a string read as a deeper break: the string's own quote still ends the value.
    [`{"msg":"cfg='password: |\\\\n  ${V}'","u":"bob"}`, `'","u":"bob"}`],
    [`{"v":"password: |\\\\n  ${V}","trace":"${'x'.repeat(260)}"}`, `","trace":"${'x'.repeat(260)}"}`],
  ])('%s: masks the value, never the JSON after it', (text, tail) => {
    const m = masked(text);
    expect(m, text).not.toContain(V);
    expect(m.endsWith(tail), m).toBe(true);
  });

  it("stays linear on 1 MiB of the third round's shapes", () => {
    for (const text of [
      fillMiB('\\npassword: |\\n  a1'),
      fillMiB('password:\n  value: '),
      fillMiB('password: >- a'),
      fillMiB('curl -b curl -b '),
      fillMiB('curl -u a:b -b '),
      fillMiB('password: |\\n  a\\\\\\\\\\"'),
      `{"v": "password: |\\n  ${fillMiB('\\\\')}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named secrets: spellings that got past the guard (Turkish i, letters of other scripts, a split password word)', () => {
  const S = 'Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc';

  it.each([
    // Turkish-locale case mapping: "i".toUpperCase() is "İ" (U+0130), "I".toLowerCase() "ı" (U+0131).
    // NFKC leaves both, so the name read as no name.
    ['APİ_KEY', `APİ_KEY=${S}`, S],
    ['PRİVATE_KEY', `PRİVATE_KEY=${S}`, S],
    ['SİGNİNG_KEY in JSON', `{"SİGNİNG_KEY": "${S}"}`, S],
    ['apı_key in JSON', `{"apı_key": "${S}"}`, S],
    ['apıKey', `apıKey=${S}`, S],
    ['a quoted PASSWORD name with İ in its prefix', '{"DBİ_PASSWORD": "Hunter2Secret!"}', 'Hunter2Secret!'],
    // A letter of another script in a quoted name's prefix: the name's last segment says what it is.
    ['clıent_secret in JSON', `{"clıent_secret": "${S}"}`, S],
    ['an accented prefix in JSON (precomposed í)', `{"cl\u00edent_secret": "${S}"}`, S],
    ['an accented prefix in JSON (i and a combining acute)', `{"cli\u0301ent_secret": "${S}"}`, S],
    ['a Cyrillic prefix in JSON', `{"ключ_secret": "${S}"}`, S],
    ['a CJK prefix outside the BMP in JSON', `{"\u{20000}_api_key": "${S}"}`, S],
    ['a Greek prefix, single-quoted', `{'κλειδί_token': '${S}'}`, S],
    // The password word split by a separator ("_", "-", "."), or a short run of them.
    ['pass_word', 'pass_word=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass-word', 'pass-word=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass.word', 'pass.word=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass_phrase', 'pass_phrase=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass_wd', 'pass_wd=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass__word', 'pass__word=Hunter2Secret!', 'Hunter2Secret!'],
    ['pass_-word', 'pass_-word=Hunter2Secret!', 'Hunter2Secret!'],
    ['a quoted pass__word', '{"pass__word": "Hunter2Secret!"}', 'Hunter2Secret!'],
    ['DB_PASS_WORD', 'DB_PASS_WORD=Hunter2Secret!', 'Hunter2Secret!'],
    ['a quoted "pass-phrase"', `{"ssl_pass-phrase": "${S}"}`, S],
    // "pass" after a prefix of another script and a real separator is a name's last segment.
    ['a Cyrillic prefix and _pass, quoted', '{"ключ_pass": "Hunter2Secret!"}', 'Hunter2Secret!'],
  ])('%s: PASSWORD, masked, and refused by the guard', (_name, text, value) => {
    expect(passwords(text), text).toEqual([['PASSWORD', value]]);
    expect(masked(text), text).not.toContain(value);
    expect(refusedAs(text), text).toContain('PASSWORD');
  });

  it('the mask keeps the name as written, its Turkish letters too', () => {
    expect(masked(`APİ_KEY=${S}`)).toBe('APİ_KEY=[PASSWORD]');
    expect(masked(`{"apı_key": "${S}"}`)).toBe('{"apı_key": "[PASSWORD]"}');
    expect(masked(`{"cl\u00edent_secret": "${S}"}`)).toBe('{"cl\u00edent_secret": "[PASSWORD]"}');
  });

  it.each([
    // Prose with the split word and no value assigned, or a value that is no password.
    'Enter the pass word below',
    'the pass word is wrong',
    'pass word: required',
    'a pass phrase of four words',
    // "pass" glued to a longer word before the separator is that word's ("bypass", "compass").
    'bypass_word=Hunter2Secret!',
    'compass-word=Hunter2Secret!',
    'bypass phrase: Hunter2Secret!',
    // A Turkish word that merely holds the letters: no name.
    'TOKEN İPTAL EDİLDİ',
    // A name whose core is followed by more letters of another script names something else.
    '{"passwordé": "x"}',
  ])('%s: no PASSWORD', (text) => {
    expect(passwords(text), text).toEqual([]);
  });

  // Ordinary tenant text the split word and the letters of other scripts made refused (an attacker
  // review): "pass" glued after a letter of any script is that word's ("Fußpass", "测试全部pass"),
  // as it is after an ASCII one ("Reisepass"), and a blank never splits the password word ("bus pass
  // phrase", "result=pass word=...": "pass" is a word of its own there).
  it.each([
    '测试全部pass: run-42',
    'テストpass: build-1234',
    '登机牌pass: AB1234CD',
    'Fußpass: Nr10-Mueller',
    'Fußpass: Hello1234x',
    'Reiseßpass: X1234567',
    'Säätöpass: AB1234CD',
    'Kaffeeépass: AB1234CD',
    // The accent as a combining mark after its letter (NFD, as macOS writes it).
    'Kaffee\u0301pass: AB1234CD',
    'ключpass=Abc12345',
    '結果pw=Abc12345',
    'Größepw: Zq8sK2vLp9',
    '测试pass word: abc12345',
    'バスpass phrase: Zone2-Monthly',
    'result=pass word=Wrong1234',
    'status: pass word: abc12345',
    'bus pass phrase: Zone2-Monthly',
    'the bus pass word is Zone2Monthly',
    'Let me pass word: Serendipity2024 to you',
    'my pass word is Hunter2!x',
    'pass word=Hunter2Secret!',
    '{"pass word": "Hunter2Secret!"}',
    'PASS WORD=Hunter2Secret!',
    'pass  phrase=Hunter2Secret!',
    // A run of separators after a longer word is that word's too, and so is one after a letter of another script.
    'bypass__word=Hunter2Secret!',
    'compass_-word=Hunter2Secret!',
    'Fußpass_word=Hunter2Secret!',
    '测试pass_word: Hunter2Secret!',
    // Four separators are no split word's.
    'pass____word=Hunter2Secret!',
  ])('%s: ordinary text, no PASSWORD, and the guard accepts it', (text) => {
    expect(passwords(text), text).toEqual([]);
    expect(masked(text), text).toBe(text);
    expect(refusedAs(text), text).toEqual([]);
  });

  it('stays linear on 1 MiB of split words and letters of other scripts before a name', () => {
    for (const text of [
      fillMiB('pass_word='),
      fillMiB('pass word '),
      fillMiB('pass pass_'),
      fillMiB('pass-phrase:'),
      fillMiB('ı'),
      `${fillMiB('ı')}_secret="${S}"`,
      `{"${fillMiB('é')}_api_key": "${S}"}`,
      fillMiB('"é_secret'),
      fillMiB('\u{20000}'),
      fillMiB('İ_KEY='),
      // The review's shapes: runs of "pass_", of "ı", of "pass" glued after CJK letters.
      fillMiB('pass_'),
      fillMiB('pass__-'),
      fillMiB('测试pass'),
      fillMiB('测试pass: '),
      fillMiB('Fuß_pass='),
      fillMiB('e\u0301pass '),
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
    expect(passwords(fillMiB('APİ_KEY= ')), 'detect() over the normalized text').toEqual([]);
  });
});

describe('named passwords: the password word in other languages', () => {
  // A reviewer's: each of these passed the guard and preflight unmasked. Every word in its case
  // forms, with and without its accents (an accent typed as a combining mark, NFD, reads as none),
  // fullwidth, as a quoted key, after a prefix; [text, the value].
  it.each([
    ['Passwort=hunter2', 'hunter2'],
    ['{"PASSWORT": "hunter2"}', 'hunter2'],
    ['DB_PASSWORT=hunter2', 'hunter2'],
    ['benutzerPasswort: hunter2', 'hunter2'],
    ['Ｐａｓｓｗｏｒｔ＝hunter2', 'hunter2'],
    ['Kennwort: hunter2', 'hunter2'],
    ['{"KENNWORT": "hunter2"}', 'hunter2'],
    ['contraseña: hunter2', 'hunter2'],
    ['CONTRASEÑA=hunter2', 'hunter2'],
    ['{"contrasena": "hunter2"}', 'hunter2'],
    ['contrasen\u0303a=hunter2', 'hunter2'],
    ['senha=hunter2', 'hunter2'],
    ['{"SENHA": "hunter2"}', 'hunter2'],
    ['db_senha=hunter2', 'hunter2'],
    ['mot de passe: hunter2', 'hunter2'],
    ['Mot de passe : hunter2', 'hunter2'],
    ['{"mot_de_passe": "hunter2"}', 'hunter2'],
    ['motDePasse=hunter2', 'hunter2'],
    ['MOT-DE-PASSE=hunter2', 'hunter2'],
    ['пароль=hunter2', 'hunter2'],
    ['{"ПАРОЛЬ": "hunter2"}', 'hunter2'],
    ['db_пароль: hunter2', 'hunter2'],
    ['密码=hunter2', 'hunter2'],
    ['密码：hunter2', 'hunter2'],
    ['用户密码=hunter2', 'hunter2'],
    ['{"密码": "hunter2"}', 'hunter2'],
    ['密碼: hunter2', 'hunter2'],
    ['パスワード: hunter2', 'hunter2'],
    ['{"パスワード": "hunter2"}', 'hunter2'],
    ['ﾊﾟｽﾜｰﾄﾞ=hunter2', 'hunter2'],
    ['ハ\u309Aスワート\u3099: hunter2', 'hunter2'],
    ['비밀번호=hunter2', 'hunter2'],
    ['{"비밀번호": "hunter2"}', 'hunter2'],
    ['wachtwoord=hunter2', 'hunter2'],
    ['{"Wachtwoord": "hunter2"}', 'hunter2'],
    ['lösenord=hunter2', 'hunter2'],
    ['LÖSENORD: hunter2', 'hunter2'],
    ['losenord=hunter2', 'hunter2'],
    ['lo\u0308senord=hunter2', 'hunter2'],
    ['salasana=hunter2', 'hunter2'],
    ['{"SALASANA": "hunter2"}', 'hunter2'],
    ['jelszó=hunter2', 'hunter2'],
    ['JELSZO: hunter2', 'hunter2'],
    ['şifre=hunter2', 'hunter2'],
    // Upper-cased in a Turkish locale: "i".toUpperCase() is "İ" there.
    ['ŞİFRE: hunter2', 'hunter2'],
    ['{"sifre": "hunter2"}', 'hunter2'],
    // The text as written: a value holding an escape, a YAML block scalar.
    ['GET /login?usuario=bob&contraseña=Ab%26c1xyz99&x=1', 'Ab%26c1xyz99'],
    ['ŞİFRE=Ab%26c1xyz99', 'Ab%26c1xyz99'],
    ['Passwort: |\n  Hunter2Secret!', 'Hunter2Secret!'],
    ['密码: |\n  Hunter2Secret!', 'Hunter2Secret!'],
    ['пароль: >-\n  Hunter2Secret!', 'Hunter2Secret!'],
    // The name escaped: percent-encoded UTF-8 in a query, a JSON string's \u escapes.
    ['GET /login?contrase%C3%B1a=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?%E5%AF%86%E7%A0%81=Hunter2x&x=1', 'Hunter2x'],
    ['{"\\u5bc6\\u7801": "hunter2"}', 'hunter2'],
  ])('%s: PASSWORD, masked, and refused by the guard', (text, value) => {
    expect(passwords(text), text).toEqual([['PASSWORD', value]]);
    expect(masked(text), text).not.toContain(value);
    expect(refusedAs(text), text).toContain('PASSWORD');
  });

  it('the mask keeps the name as written', () => {
    expect(masked('Passwort=hunter2')).toBe('Passwort=[PASSWORD]');
    expect(masked('{"密码": "hunter2"}')).toBe('{"密码": "[PASSWORD]"}');
    expect(masked('ŞİFRE: hunter2')).toBe('ŞİFRE: [PASSWORD]');
    expect(masked('contrasen\u0303a=hunter2')).toBe('contrasen\u0303a=[PASSWORD]');
  });

  // Ordinary prose naming the password without giving one, a longer word holding the name, and the
  // words left out of the list (Italian "parola" is "word"; Polish "hasło" and Czech "heslo" are a
  // slogan or a dictionary's headword too, and „ opens a quotation there): each passes unchanged.
  it.each([
    'Das Passwort wurde geändert.',
    'Passwort: mindestens 8 Zeichen',
    'Passwortänderung=Ab12cd34',
    'Olvidé mi contraseña',
    'Contraseña: mínimo 8 caracteres',
    'Esqueci minha senha',
    'Resenha: Filme-2024',
    'RESENHA=Filme-2024',
    "J'ai oublié mon mot de passe.",
    'Le mot de passe doit contenir 8 caractères',
    'Пароль изменён',
    'Пароль должен содержать не менее 8 символов',
    'Смена пароля: 2024-05-01',
    '密码已更改',
    '您的密码已重置。',
    '修改密码：请点击链接',
    'パスワードを変更しました',
    '비밀번호가 변경되었습니다',
    'Wachtwoord vergeten?',
    'Glömt lösenordet?',
    'Unohditko salasanasi?',
    'Elfelejtett jelszó',
    'Şifre değiştirildi',
    'deşifre: Belge-2024',
    'la parola: ciao-2024',
    'Hasło: „Bezpieczna Polska"',
    'Heslo: „Pravda vítězí"',
    // A label in a translation file is no password under any name.
    '{"password": "Passwort:"}',
    '{"login.password": "Contraseña:"}',
    '{"Passwort": "Passwort eingeben"}',
  ])('%s: no PASSWORD, and the guard accepts it', (text) => {
    expect(passwords(text), text).toEqual([]);
    expect(masked(text), text).toBe(text);
    expect(refusedAs(text), text).toEqual([]);
  });

  it('stays linear on 1 MiB of the words in other languages', () => {
    // Every "密码=a1b2c3 " holds one password: all are found, each on its own.
    expect(detectNamedPasswords(fillMiB('密码=a1b2c3 '))).toHaveLength(Math.floor(MiB / 10));
    for (const text of [
      fillMiB('Passwort='),
      fillMiB('mot de passe '),
      fillMiB('mot de '),
      fillMiB('mot_de_mot-de-'),
      fillMiB('密码'),
      fillMiB('用户密码'),
      fillMiB('密码:'),
      fillMiB('contraseña:'),
      fillMiB('resenha '),
      fillMiB('ŞİFRE='),
      fillMiB('пароль'),
      `${fillMiB('用')}密码=a1b2c3`,
      `пароль="${fillMiB('a1')}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords in other languages: the attacker review', () => {
  const refusedAndMasked = (text: string, secret: string) => {
    expect(passwords(text).length, text).toBeGreaterThan(0);
    expect(masked(text), text).not.toContain(secret);
    expect(refusedAs(text), text).toContain('PASSWORD');
  };

  // A localized word anywhere in a value made the whole value a form's label, so these real secrets
  // passed (HEAD's code refused each): the word, or only its letters, inside the secret. [text, secret].
  it.each([
    ['password=Passwort123!', 'Passwort123!'],
    ['password: Kennwort2024', 'Kennwort2024'],
    ['pwd=Senha@123', 'Senha@123'],
    ['"password":"Contraseña1!"', 'Contraseña1!'],
    ['DB_PASSWORD=Пароль123!', 'Пароль123!'],
    ['DB_PASSWORD=密码123456', '123456'],
    ['mysql -u root -pPasswort123 db', 'Passwort123'],
    ['sshpass -p Kennwort2024! ssh bob@h', 'Kennwort2024!'],
    ['curl -u bob:Contrasena2024 https://x.example.com', 'Contrasena2024'],
    ["CREATE USER bob IDENTIFIED BY 'Passwort123!'", 'Passwort123!'],
    ['client_secret=Xk9vQ2mL7pR4tW8zNsifre3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zNsifre3bV5cY1aB'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.senha.Xk9vQ2mL7pR4tW8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tW8zN3bV5cY1aB'],
    ['Cookie: sessionid=Xk9vQ2mL7pR4tKennwort8zN3bV5cY1aB', 'Xk9vQ2mL7pR4tKennwort8zN3bV5cY1aB'],
    ['password=Hasenhaus#42', 'Hasenhaus#42'],
    ['password=Nasenhaar2024!', 'Nasenhaar2024!'],
    ['password=Sifreli#2024', 'Sifreli#2024'],
    ['DB_PASSWORD=Motdepasse1!', 'Motdepasse1!'],
    ['{"password": "Passwort:x9"}', 'Passwort:x9'],
    ['{"password": "Passwort: 42!x"}', 'Passwort: 42!x'],
  ])('%s: a secret holding a localized word is no label, and is refused', refusedAndMasked);

  // A translation file's label: the whole value one of the words, maybe with a colon and blanks.
  it.each([
    '{"password": "Passwort:"}',
    '{"login.password": "Contraseña:"}',
    '{"password": "Passwort："}',
    '{"password": "CONTRASENA: "}',
    '{"password": "Kennwort"}',
    '{"pwd": "Senha:"}',
    '{"password": "Şifre:"}',
    '{"password": "Пароль:"}',
    '{"password": "Mot de passe :"}',
    '{"password": "Motdepasse"}',
    'mysql -u root -pPasswort db',
    'password=Passwort',
  ])('%s: a label in another language is no password', accepted);

  // CJK writes no blanks: after a CJK name the rest of the sentence was one value, and a digit, a
  // comma or a bracket in it made it a password where the English sentence passes.
  it.each([
    '密码：已重置，请重新登录',
    '密码：已于2024年5月1日重置',
    'パスワード：2024年5月1日に変更されました',
    'パスワード：変更しました（再ログインが必要）',
    '重置密码：请访问https://example.com/reset',
    '密码：至少8位，包含字母和数字',
    '密码：8～16位字符',
    '用户密码：已过期，请更新！',
    '修改密码：点击这里->设置',
    '密码：******（已隐藏）',
    '密码：已修改（操作人：admin）',
    '{"密码": "至少8位字符，包含数字"}',
    '{"パスワード": "8文字以上（英数字）"}',
    '{"비밀번호": "8자이상(영문,숫자)"}',
    '密碼：已變更（2024/05/01）',
    'パスワード: 再設定済み(2024/05/01)',
    '비밀번호: 2024-05-01에 변경됨',
  ])('%s: CJK prose after the name is no password', accepted);

  // A password in or beside CJK prose is still one: a run between the CJK letters that is a password.
  it.each([
    ['密码：hunter2', 'hunter2'],
    ['密码=Xk9vQ2mL7p', 'Xk9vQ2mL7p'],
    ['用户密码=a1b2c3', 'a1b2c3'],
    ['密码：Hunter2x！', 'Hunter2x'],
    ['密码：Hunter2x，请妥善保管', 'Hunter2x'],
    ['初始密码：Abc12345，请登录后修改', 'Abc12345'],
    ['密码：已修改为Hunter2x', 'Hunter2x'],
    ['パスワード：Hunter2xです', 'Hunter2x'],
    ['{"비밀번호": "Hunter2x입니다"}', 'Hunter2x'],
    ['password=张三2024!abc', '2024!abc'],
  ])('%s: a password among CJK letters is refused', refusedAndMasked);

  // Only a CJK name's value is read as CJK prose: after any other name a password holding CJK letters
  // is judged whole, as before the CJK names were read.
  it.each([
    ['password=张三李四2024', '张三李四2024'],
    ['password=张2024!', '张2024!'],
    ['pwd=Hun密ter2x', 'Hun密ter2x'],
    ['{"password": "密码123456"}', '密码123456'],
  ])('%s: after a name not in CJK, a value with CJK letters is judged whole', refusedAndMasked);

  // camelCase before the words that must follow no letter ("Resenha", "deşifre" are other words).
  it.each([
    ['novaSenha=Hunter2x', 'Hunter2x'],
    ['{"novaSenha": "Hunter2x"}', 'Hunter2x'],
    ['confirmarSenha=Hunter2x', 'Hunter2x'],
    ['userSenha: Hunter2x', 'Hunter2x'],
    ['yeniŞifre=Hunter2x', 'Hunter2x'],
    ['kullaniciSifre=Hunter2x', 'Hunter2x'],
  ])('%s: a camelCase prefix before senha or şifre names a password', refusedAndMasked);

  it.each(['Resenha: Filme-2024', 'deşifre: Belge-2024', 'RESENHA=Filme-2024', 'desenha: Casa-2024', 'DESENHA=Casa-2024'])(
    '%s: a longer word ending in senha or şifre, no camelCase boundary before it, names none',
    accepted,
  );

  it('a combining accent in the name as written: the escaped value is read whole', () => {
    for (const text of [
      'GET /login?contrasen\u0303a=Ab%26c1xyz99&x=1',
      'GET /login?lo\u0308senord=Ab%26c1xyz99&x=1',
      'GET /login?contrasen\u0303a\u0301=Ab%26c1xyz99&x=1',
    ]) {
      expect(passwords(text), text).toEqual([['PASSWORD', 'Ab%26c1xyz99']]);
      expect(masked(text), text).not.toContain('c1xyz99');
      expect(refusedAs(text), text).toContain('PASSWORD');
    }
  });

  it('stays linear on 1 MiB of the review shapes', () => {
    for (const text of [
      fillMiB('novaSenha='),
      fillMiB('aSenha'),
      fillMiB('resenha'),
      fillMiB('yeniŞifre '),
      fillMiB('密码：已'),
      fillMiB('密码：a1已'),
      fillMiB('contrasen\u0303'),
      fillMiB('n\u0303\u0303\u0303\u0303'),
      `密码：${fillMiB('已a')}`,
      `password="${fillMiB('Passwort:')}`,
      `{"password": "${fillMiB('密')}"}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords: the password word of more languages', () => {
  const NFD = (text: string) => text.normalize('NFD');

  // Each passed the guard: the password word of Norwegian, Danish, Korean (the loanword), Hebrew,
  // Vietnamese, Indonesian and Malay, Thai, Hindi, Greek, Arabic, and Japanese's PIN. As a key, a
  // JSON key, a query's parameter, after a prefix, in camelCase where the script has case; accents
  // and marks as typed (NFC, NFD, and a vowel's mark precomposed with its tone's combining, as
  // Vietnamese keyboards write it). [text, the value].
  it.each([
    ['passord=hunter2', 'hunter2'],
    ['{"Passord": "hunter2"}', 'hunter2'],
    ['db_passord: hunter2', 'hunter2'],
    ['brukerPassord=hunter2', 'hunter2'],
    ['adgangskode=hunter2', 'hunter2'],
    ['{"ADGANGSKODE": "hunter2"}', 'hunter2'],
    ['kodeord: hunter2', 'hunter2'],
    ['패스워드=hunter2', 'hunter2'],
    ['{"패스워드": "hunter2"}', 'hunter2'],
    ['סיסמה=hunter2', 'hunter2'],
    ['{"סיסמה": "hunter2"}', 'hunter2'],
    ['סיסמא: hunter2', 'hunter2'],
    ['הסיסמה: hunter2', 'hunter2'],
    ['סִיסְמָה=hunter2', 'hunter2'],
    ['mật khẩu: hunter2', 'hunter2'],
    [NFD('mật khẩu: hunter2'), 'hunter2'],
    ['m\u00e2\u0323t kh\u00e2\u0309u: hunter2', 'hunter2'],
    ['MẬT KHẨU=hunter2', 'hunter2'],
    ['{"mat_khau": "hunter2"}', 'hunter2'],
    ['matKhau=hunter2', 'hunter2'],
    ['nhapMatKhau=hunter2', 'hunter2'],
    ['kata sandi: hunter2', 'hunter2'],
    ['{"kata_sandi": "hunter2"}', 'hunter2'],
    ['KATA SANDI=hunter2', 'hunter2'],
    ['userKataSandi=hunter2', 'hunter2'],
    ['kata laluan: hunter2', 'hunter2'],
    ['รหัสผ่าน=hunter2', 'hunter2'],
    ['{"รหัสผ่าน": "hunter2"}', 'hunter2'],
    ['รหัสผ่าน：hunter2', 'hunter2'],
    ['पासवर्ड: hunter2', 'hunter2'],
    ['{"पासवर्ड": "hunter2"}', 'hunter2'],
    ['κωδικός πρόσβασης: hunter2', 'hunter2'],
    ['ΚΩΔΙΚΟΣ ΠΡΟΣΒΑΣΗΣ=hunter2', 'hunter2'],
    ['Κωδικός Πρόσβασης: hunter2', 'hunter2'],
    ['{"kodikos": 1, "κωδικος_προσβασης": "hunter2"}', 'hunter2'],
    ['كلمة المرور: hunter2', 'hunter2'],
    ['{"كلمة_المرور": "hunter2"}', 'hunter2'],
    ['كلمة السر=hunter2', 'hunter2'],
    ['暗証番号=123456', '123456'],
    ['{"暗証番号": "a1b2c3"}', 'a1b2c3'],
    // A query's parameter, as sent (percent-encoded UTF-8) and as written.
    ['GET /login?user=bob&passord=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?user=bob&m%E1%BA%ADt_kh%E1%BA%A9u=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?%D7%A1%D7%99%D7%A1%D7%9E%D7%94=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?%E0%B8%A3%E0%B8%AB%E0%B8%B1%E0%B8%AA%E0%B8%9C%E0%B9%88%E0%B8%B2%E0%B8%99=Hunter2x', 'Hunter2x'],
    ['GET /login?kata_sandi=Ab%26c1xyz99&x=1', 'Ab%26c1xyz99'],
    [`GET /login?${NFD('mật_khẩu')}=Ab%26c1xyz99&x=1`, 'Ab%26c1xyz99'],
  ])('%s: PASSWORD, masked, and refused by the guard', refusedAlone);

  it('the mask keeps the name as written', () => {
    expect(masked('mật khẩu: hunter2')).toBe('mật khẩu: [PASSWORD]');
    expect(masked(NFD('mật khẩu: hunter2'))).toBe(NFD('mật khẩu: [PASSWORD]'));
    expect(masked('รหัสผ่าน=hunter2')).toBe('รหัสผ่าน=[PASSWORD]');
    expect(masked('كلمة المرور: hunter2')).toBe('كلمة المرور: [PASSWORD]');
  });

  // Prose naming the password without giving one; a longer word holding the name; words left out
  // (Greek "κωδικός" alone is any code: a product's, a postal one); a slogan, Hebrew's other
  // "סיסמה", in quotes; Indonesian "berkata Sandi" ("said to Sandi"), kata sandi after a letter.
  it.each([
    'Glemt passord?',
    'Passordet ble endret: 2024-05-01',
    'Glemt adgangskode?',
    'Adgangskoden skal være mindst 8 tegn',
    '패스워드가 변경되었습니다',
    'הסיסמה שונתה',
    'סיסמה: "עם ישראל חי"',
    'סיסמת הבחירות: שינוי-2024',
    'Quên mật khẩu?',
    'Mật khẩu: ít nhất 8 ký tự',
    NFD('Mật khẩu đã được thay đổi'),
    'Lupa kata sandi?',
    'Kata sandi: minimal 8 karakter',
    'Dia berkata Sandi: Halo-2024',
    'kata sandiwara: Drama-2024',
    'ลืมรหัสผ่าน',
    'รหัสผ่านถูกเปลี่ยนแล้ว',
    'รหัสผ่าน: อย่างน้อย8ตัวอักษร',
    'รหัสผ่าน：เปลี่ยนแล้ว(2024)',
    'पासवर्ड बदल दिया गया है',
    'पासवर्ड: कम से कम 8 अक्षर',
    'Ξεχάσατε τον κωδικό πρόσβασης;',
    'Κωδικός: ΑΒ-2024',
    'κωδικός προϊόντος: ΑΒ-2024',
    'نسيت كلمة المرور؟',
    'كلمة المرور: 8 أحرف على الأقل',
    'كلمة السر في النجاح هي الصبر',
    '暗証番号を変更しました',
    '暗証番号：4桁の数字',
    // A label in a translation file.
    '{"password": "Mật khẩu:"}',
    '{"password": "Kata sandi"}',
    '{"password": "รหัสผ่าน:"}',
    '{"password": "كلمة المرور:"}',
    '{"password": "Passord"}',
  ])('%s: no PASSWORD, and the guard accepts it', accepted);

  // The English names' "again" segments (a confirmation, a change's old and new one), localized:
  // after the password word, in the languages whose word comes first.
  it.each([
    ['Passwort_neu=Hunter2x', 'Hunter2x'],
    ['passwortNeu=Hunter2x', 'Hunter2x'],
    ['Passwort_alt=Hunter2x', 'Hunter2x'],
    ['passwort_aktuell=Hunter2x', 'Hunter2x'],
    ['Passwort_bestätigung=Hunter2x', 'Hunter2x'],
    ['passwort_bestaetigen=Hunter2x', 'Hunter2x'],
    ['{"kennwortWiederholen": "Hunter2x"}', 'Hunter2x'],
    ['wachtwoord_nieuw=Hunter2x', 'Hunter2x'],
    ['wachtwoord_huidig=Hunter2x', 'Hunter2x'],
    ['wachtwoordHerhalen=Hunter2x', 'Hunter2x'],
    ['contraseña_nueva=Hunter2x', 'Hunter2x'],
    ['contrasena_actual=Hunter2x', 'Hunter2x'],
    ['contraseñaConfirmación=Hunter2x', 'Hunter2x'],
    ['contraseña_repetir=Hunter2x', 'Hunter2x'],
    ['senha_atual=Hunter2x', 'Hunter2x'],
    ['senha_nova=Hunter2x', 'Hunter2x'],
    ['senhaAntiga=Hunter2x', 'Hunter2x'],
    ['senha_confirmacao=Hunter2x', 'Hunter2x'],
    ['mot_de_passe_actuel=Hunter2x', 'Hunter2x'],
    ['motDePasseNouveau=Hunter2x', 'Hunter2x'],
    ['mot_de_passe_ancien=Hunter2x', 'Hunter2x'],
    ['mot-de-passe-confirmation=Hunter2x', 'Hunter2x'],
    ['รหัสผ่านใหม่=Hunter2x', 'Hunter2x'],
    ['{"passord_ny": "Hunter2x"}', 'Hunter2x'],
    // The prefix form, as before.
    ['neues_Passwort=Hunter2x', 'Hunter2x'],
    ['nueva_contraseña=Hunter2x', 'Hunter2x'],
    ['nouveau_mot_de_passe=Hunter2x', 'Hunter2x'],
  ])('%s: a password again, in its own language: refused', refusedAlone);

  // A longer word, or another segment, after the password word names something else still.
  it.each([
    'passwort_alter=Ab12cd34',
    'Passwortaltersgrenze=Ab12cd34',
    'passwort_neuladen=Ab12cd34',
    'senha_atualizada=Ab12cd34',
    'contraseña_actualizada=Ab12cd34',
    'wachtwoord_oudste=Ab12cd34',
    'mot_de_passe_oublie=Ab12cd34',
  ])('%s: names something else, no PASSWORD', accepted);

  it('stays linear on 1 MiB of the new words', () => {
    for (const text of [
      fillMiB('รหัสผ่าน'),
      fillMiB('รหัสผ่าน='),
      fillMiB('mật khẩu '),
      fillMiB(NFD('mật khẩu ')),
      fillMiB('ma\u0302\u0323\u0302'),
      fillMiB('kata kata sandi '),
      fillMiB('berkata sandi:'),
      fillMiB('κωδικός κωδικός πρόσβασης'),
      fillMiB('كلمة كلمة المرور '),
      fillMiB('סיסמהסיסמא'),
      fillMiB('Passwort_neu_neu'),
      fillMiB('senhaAtualizada'),
      `รหัสผ่าน：${fillMiB('ก1')}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords in more languages: the attacker review', () => {
  // Real passwords a label rule tried in this round let through (an attacker review measured them;
  // the rule is not kept): each is refused, its password masked.
  it.each([
    ['CMD ["sh","-c","PGPASSWORD=\\"Zq8=vT2x\\" psql -h db"]', 'Zq8=vT2x'],
    ['{"env":["DB_PASSWORD=\\"Hunter2x9!\\""]}', 'Hunter2x9!'],
    ['{"cmd":"password=\\"Hunter2x9!\\""}', 'Hunter2x9!'],
    ['"password=&quot;Hunter2x9!&quot;"', 'Hunter2x9!'],
    ['password: ",Hunter2x9!"', 'Hunter2x9!'],
    ['password: "}Zq8=vT2x"', 'Zq8=vT2x'],
    ['DB_PASSWORD="}Hunter2x9"', 'Hunter2x9'],
    ["password=',Hunter2x9!'", 'Hunter2x9!'],
    ['msg=password: Zq8=vT2x', 'Zq8=vT2x'],
    ['x=password:Zq8=vT2x', 'Zq8=vT2x'],
    ['reason=password:Zm9vYmFyMTIz=', 'Zm9vYmFyMTIz='],
    ['{"password":"Hunter2x9"}', 'Hunter2x9'],
    ['password: "Hunter2x9"', 'Hunter2x9'],
    ['"Passwort": "Geheim2024!"', 'Geheim2024!'],
    ['DB_PASSWORD=Hunter2x9\nDB_HOST=127.0.0.1', 'Hunter2x9'],
    ['Mật khẩu:\nHunter2x9', 'Hunter2x9'],
  ])('%s: PASSWORD, masked, refused', (text, secret) => {
    expect(passwords(text).length, text).toBeGreaterThan(0);
    expect(masked(text), text).not.toContain(secret);
    expect(refusedAs(text), text).toContain('PASSWORD');
  });

  // Hindi prose after the name: Devanagari's vowel signs are marks, no symbols. A mark after a Latin
  // letter is still one (the normalizer dropped the accents Latin takes).
  it.each(['पासवर्ड: बदला गया', 'पासवर्ड: रीसेट किया गया', 'पासवर्ड: समाप्त हो गया', 'पासवर्ड: कृपया दोबारा डालें', 'पासवर्ड: समाप्त'])(
    '%s: prose, no PASSWORD',
    accepted,
  );
  it.each([
    ['पासवर्ड: Hunter2x9', 'Hunter2x9'],
    ['पासवर्ड: गुप्त@कुंजी', 'गुप्त@कुंजी'],
    ['पासवर्ड: कुंजी२०२४', 'कुंजी२०२४'],
    ['password: Hunter2x9', 'Hunter2x9'],
    ['password: Zürich!!', 'Zürich!!'],
    ['password: Hunterःxyz', 'Hunterःxyz'],
    ['password: Hunterाxyz', 'Hunterाxyz'],
  ])('%s: a password, still PASSWORD', refusedAlone);

  // The other languages' words that are English words too name that after an English name: an icon's
  // alt text, a test's actual value. The rest are read after any name: code mixes its languages.
  it.each(['password_alt: eye-icon-2', 'password_actual: check_result_2', 'passwordAlt: eye-icon-2'])('%s: names something else, no PASSWORD', accepted);
  it.each([
    'password_nuevo',
    'password_nueva',
    'password_novo',
    'passwordNova',
    'password_atual',
    'passwordNeu',
    'DB_PASSWORD_NEU',
    'password_confirmar',
    'password_repetir',
    'password_anterior',
    'password_nouveau',
    'password_ny',
    'pwd_nuevo',
  ])('%s: Hunter2x9! is a password again, refused', (name) => refusedAlone(`${name}=Hunter2x9!`, 'Hunter2x9!'));
  it.each([
    ['password_new: Hunter2x9', 'Hunter2x9'],
    ['passwordConfirmation=Hunter2x9', 'Hunter2x9'],
    ['password_current: Hunter2x9', 'Hunter2x9'],
    ['client_secret_new: Hunter2x9-Zq8vT2xkLm0p', 'Hunter2x9-Zq8vT2xkLm0p'],
    ['Passwort_alt=Hunter2x9', 'Hunter2x9'],
    ['contraseña_actual=Hunter2x9', 'Hunter2x9'],
    // An English word after another language's password word, as code mixes them.
    ['senha_confirm=Hunter2x9', 'Hunter2x9'],
  ])('%s: a password again, still PASSWORD', refusedAlone);

  // Each language's new, old, current, confirm and repeat words after its password word.
  it.each([
    'kata_sandi_baru',
    'kata_sandi_lama',
    'kata_laluan_baharu',
    'kata_laluan_lama',
    'mật_khẩu_mới',
    'mat_khau_cu',
    'matKhauMoi',
    'passord_gjenta',
    'passord_gammelt',
    'passordBekreft',
    'kodeord_gentag',
    'adgangskode_nyt',
    'adgangskodeBekræft',
    'lösenord_upprepa',
    'losenord_gammalt',
    'lösenordBekräfta',
    'contraseña_repetida',
    'סיסמה_חדשה',
    'סיסמא_ישנה',
    'كلمة_المرور_الجديدة',
    'كلمة_المرور_الحالية',
    'κωδικός_πρόσβασης_νέος',
    'κωδικός_πρόσβασης_τρέχων',
    'salasana_uusi',
    'salasanaVanha',
    'jelszó_új',
    'jelszo_regi',
    'şifre_yeni',
    'sifre_eski',
    'пароль_новый',
    'пароль_текущий',
  ])('%s: Hunter2x9 is a password again, refused', (name) => refusedAlone(`${name}: Hunter2x9`, 'Hunter2x9'));

  // A longer word, another segment, or a blank before the word: something else, or prose.
  it.each([
    'passord_nyhet=Ab12cd34',
    'kata_sandi_barunya=Ab12cd34',
    'şifre_eskimiş=Ab12cd34',
    'salasana_uusittu=Ab12cd34',
    'пароль_новыйх=Ab12cd34',
    'Mật khẩu mới: ít nhất 8 ký tự',
  ])('%s: no PASSWORD', accepted);

  it('stays linear on 1 MiB of the review shapes', () => {
    for (const text of [
      fillMiB('"Mật khẩu:"'),
      fillMiB('"password=","'),
      fillMiB('x=Kata sandi:  y='),
      fillMiB('पासवर्ड: समाप्त '),
      fillMiB('kata_sandi_baru_baru'),
      fillMiB('password_alt_'),
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords: the spellings people type the words in', () => {
  const NFD = (text: string) => text.normalize('NFD');
  const SECRET = 'S3cr3t-Value9';

  // Each passed the guard unmasked: Arabic drawn out with tatweel (U+0640, kashida) inside its words,
  // typed with "ه" for the final "ة", and indefinite ("كلمة مرور", a password); Korean typed as
  // decomposed jamo (macOS writes NFD), and half decomposed (a syllable then its final jamo, equal
  // under NFC); German's "ß" for "ss" and its capital "ẞ". As a label, a JSON key, a query's
  // parameter (as written, and percent-encoded), after a prefix, with a repeat segment. [text, value].
  it.each([
    [`كلمة المرور: ${SECRET}`, SECRET],
    [`كلمـة المـرور: ${SECRET}`, SECRET],
    [`كلمــــة المــــرور: ${SECRET}`, SECRET],
    [`{"كلمـة_المـرور": "${SECRET}"}`, SECRET],
    [`كلمـة السـر=${SECRET}`, SECRET],
    [`كلمه المرور: ${SECRET}`, SECRET],
    [`{"كلمه_المرور": "${SECRET}"}`, SECRET],
    [`كلمه السر=${SECRET}`, SECRET],
    [`كلمة مرور: ${SECRET}`, SECRET],
    [`كلمه مرور: ${SECRET}`, SECRET],
    [`كلمـه مـرور: ${SECRET}`, SECRET],
    [`{"كلمة_مرور": "${SECRET}"}`, SECRET],
    [NFD(`비밀번호: ${SECRET}`), SECRET],
    [NFD(`패스워드: ${SECRET}`), SECRET],
    [NFD(`{"비밀번호": "${SECRET}"}`), SECRET],
    [NFD(`db_비밀번호=${SECRET}`), SECRET],
    [`\uBE44\uBBF8\u11AF\uBC88\uD638: ${SECRET}`, SECRET],
    [`Paßwort: ${SECRET}`, SECRET],
    [`paßwort=${SECRET}`, SECRET],
    [`PAẞWORT: ${SECRET}`, SECRET],
    [`{"DB_PAẞWORT": "${SECRET}"}`, SECRET],
    [`Paßwort_neu=${SECRET}`, SECRET],
    [`benutzerPaßwort: ${SECRET}`, SECRET],
    // A query's parameter: as written, a value holding an escape (read in the text as written), and
    // the name percent-encoded as a browser sends it.
    [`GET /login?user=bob&paßwort=${SECRET}&x=1`, SECRET],
    ['GET /login?user=bob&pa%C3%9Fwort=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?paßwort=Ab%26c1xyz99&x=1', 'Ab%26c1xyz99'],
    ['GET /login?كلمـة_المرور=Ab%26c1xyz99&x=1', 'Ab%26c1xyz99'],
    ['GET /login?%D9%83%D9%84%D9%85%D9%80%D8%A9_%D8%A7%D9%84%D9%85%D8%B1%D9%88%D8%B1=Hunter2x&x=1', 'Hunter2x'],
    ['GET /login?كلمه_مرور=Ab%26c1xyz99&x=1', 'Ab%26c1xyz99'],
    [`GET /login?${NFD('비밀번호')}=Ab%26c1xyz99&x=1`, 'Ab%26c1xyz99'],
    [`GET /login?${encodeURIComponent(NFD('비밀번호'))}=Hunter2x&x=1`, 'Hunter2x'],
  ])('%s: PASSWORD, masked, and refused by the guard', refusedAlone);

  it('the mask keeps the name as written', () => {
    expect(masked(`كلمـة المـرور: ${SECRET}`)).toBe('كلمـة المـرور: [PASSWORD]');
    expect(masked(`كلمه مرور: ${SECRET}`)).toBe('كلمه مرور: [PASSWORD]');
    expect(masked(NFD(`비밀번호: ${SECRET}`))).toBe(NFD('비밀번호: [PASSWORD]'));
    expect(masked(`PAẞWORT: ${SECRET}`)).toBe('PAẞWORT: [PASSWORD]');
  });

  // Prose in those spellings naming the password without giving one, labels in a translation file,
  // and words that hold the spelling but name something else ("حركة المرور", traffic; "مرور" alone,
  // passage): each passes unchanged.
  it.each([
    'نسيت كلمـة المـرور؟',
    'نسيت كلمه المرور؟',
    'أدخل كلمة مرور قوية',
    'كلمة مرور: 8 أحرف على الأقل',
    'كلمه مرور: 8 أحرف على الأقل',
    'كلمـة المـرور: 8 أحرف على الأقل',
    'تم تغيير كلمه المرور بنجاح',
    'حركة المرور: مزدحمة-2024',
    'مرور: Strasse-2024',
    '{"password": "كلمـة المـرور:"}',
    '{"password": "كلمه مرور:"}',
    NFD('비밀번호가 변경되었습니다'),
    NFD('패스워드가 변경되었습니다'),
    NFD('비밀번호: 2024-05-01에 변경됨'),
    NFD('{"비밀번호": "8자이상(영문,숫자)"}'),
    NFD('{"password": "비밀번호:"}'),
    'Das Paßwort wurde geändert.',
    'Paßwort: mindestens 8 Zeichen',
    'PAẞWORT VERGESSEN?',
    'Paßwortänderung=Ab12cd34',
    '{"password": "Paßwort:"}',
    '{"PAẞWORT": "Paßwort eingeben"}',
  ])('%s: no PASSWORD, and the guard accepts it', accepted);

  // A later word assigned a value of its own starts the next pair whatever the script of its name: a
  // name with "ß" (or any letter past ASCII) was read as the first value's second word.
  it('a later name in these spellings starts the next pair', () => {
    expect(passwords(`Passwort: ${SECRET} PAẞWORT=Other-Value8`)).toEqual([
      ['PASSWORD', SECRET],
      ['PASSWORD', 'Other-Value8'],
    ]);
    expect(passwords(`password: ${SECRET} paßwort=Other-Value8`)).toEqual([
      ['PASSWORD', SECRET],
      ['PASSWORD', 'Other-Value8'],
    ]);
    expect(passwords(`password: ${SECRET} كلمه_مرور=Other-Value8`)).toEqual([
      ['PASSWORD', SECRET],
      ['PASSWORD', 'Other-Value8'],
    ]);
    expect(passwords('POSTGRES_PASSWORD: Zq8v Größe-2x!')).toEqual([['PASSWORD', 'Zq8v Größe-2x!']]);
  });

  it('stays linear on 1 MiB of the spellings', () => {
    for (const text of [
      fillMiB('ـ'),
      fillMiB('كلمـ'),
      fillMiB('كلمـــــــــــــــة '),
      fillMiB('كلمه كلمه مرور '),
      fillMiB('كلمة مرور='),
      fillMiB(NFD('비밀번호')),
      fillMiB(NFD('비밀번')),
      fillMiB('\u1107\u1175'),
      fillMiB('Paßwort='),
      fillMiB('PAẞ'),
      `${NFD('비밀번호')}="${fillMiB('a1')}`,
    ])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords: the attacker review of the typed spellings', () => {
  const SECRET = 'S3cr3t-Value9';

  // The next pair's name of any script took a passphrase's own later word for a name: a quoted value
  // was then no passphrase and went unmasked, a line's kept only its first word. [text, value].
  it.each([
    ['{"password": "Zq8v T2xk Жук=7!"}', 'Zq8v T2xk Жук=7!'],
    ['{"password": "Zq8v Crème:7"}', 'Zq8v Crème:7'],
    ['{"passwort": "Sonne7 Straße:12"}', 'Sonne7 Straße:12'],
    ['{"пароль": "Кот2024! Мурка:5"}', 'Кот2024! Мурка:5'],
    ['{"password": "x1 ß=2"}', 'x1 ß=2'],
    ['{"كلمة المرور": "Zq8v Tـ2:x"}', 'Zq8v Tـ2:x'],
    ["ALTER USER bob IDENTIFIED BY 'Zq8v T2xk Жук:7';", 'Zq8v T2xk Жук:7'],
    ['DB_PASSWORD=Zq8vT2xk!9 Жук:7', 'Zq8vT2xk!9 Жук:7'],
  ])('%s: the whole passphrase is masked', refusedAlone);

  // Spellings still missed by the first change: tatweel past eight a letter and after the blank, a
  // Persian keyboard's keheh and yeh, Korean's word with a blank between its two halves.
  it.each([
    [`{"كـــــــــــلمة المرور": "${SECRET}"}`, SECRET],
    [`{"كلم${'ـ'.repeat(16)}ة_المرور": "${SECRET}"}`, SECRET],
    [`{"كلمة ـالمرور": "${SECRET}"}`, SECRET],
    [`{"کلمة المرور": "${SECRET}"}`, SECRET],
    [`کلمه السر: ${SECRET}`, SECRET],
    [`{"비밀 번호": "${SECRET}"}`, SECRET],
    [`비밀_번호=${SECRET}`, SECRET],
    [`GET /login?비밀_번호=Ab%26c1xyz99&x=1`, 'Ab%26c1xyz99'],
    [`GET /login?کلمة_المرور=Ab%26c1xyz99&x=1`, 'Ab%26c1xyz99'],
  ])('%s: PASSWORD, masked, and refused by the guard', refusedAlone);

  it.each(['비밀 번호를 잊으셨나요?', '비밀 번호: 8자 이상', '{"password": "비밀 번호:"}', 'کلمه عبور خود را فراموش کرده‌اید؟'])(
    '%s: no PASSWORD, and the guard accepts it',
    accepted,
  );

  it('stays linear on 1 MiB of long tatweel runs and Persian letters', () => {
    for (const text of [fillMiB(`ك${'ـ'.repeat(40)}`), fillMiB(`کلم${'ـ'.repeat(31)}`), fillMiB('کلمة ـ'), fillMiB('비밀 '), fillMiB('Zq8v Жук=7! ')])
      expect(longestFinding(text), text.slice(0, 20)).toBeLessThanOrEqual(256);
  });
});

describe('named passwords: the marks the word patterns read, as ranges', () => {
  // The word patterns hold the BMP's marks as explicit ranges (MARK_RANGES), not \p{M}, which V8
  // rebuilt at each of its hundreds of occurrences the first time a pattern read a text past Latin-1.
  it('are exactly the combining marks of the BMP', () => {
    const ranges = new RegExp(`[${MARK_RANGES}]`, 'u');
    const differ: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCharCode(c);
      if (ranges.test(ch) !== /\p{M}/u.test(ch)) differ.push(c.toString(16));
    }
    expect(differ).toEqual([]);
  });

  // A mark past the BMP inside or after the word (a musical symbol's, spacing or not, a variation
  // selector of plane 14, Brahmi's vowel sign) is not in the ranges: the words are read past it
  // (pastAstralMarks), in the normalized text and in the text as written, which alone reads a value
  // holding an escape or a YAML block's (the attacker review found those unmasked).
  it.each([
    ['pass\u{1D167}word: Zq8vT2xk!9', 'Zq8vT2xk!9'],
    ['{"пар\u{E0100}оль": "Zq8vT2xk!9"}', 'Zq8vT2xk!9'],
    ['contrase\u{1D16D}ña=Zq8vT2xk!9', 'Zq8vT2xk!9'],
    ['https://x.example/?п\u{E0100}ароль=Zq8%22vT2xk9&a=1', 'Zq8%22vT2xk9'],
    ['a=1&пароль\u{E0100}=Zq8%26vT2xk9&b=2', 'Zq8%26vT2xk9'],
    ['a=1&contrase\u{1D167}ña=Zq8%22vT2xk9', 'Zq8%22vT2xk9'],
    ['https://x.example/?pass\u{E0100}wort=Zq8%22vT2xk9', 'Zq8%22vT2xk9'],
    ['п\u{1D16D}ароль: |\n  Zq8vT2xk9\n', 'Zq8vT2xk9'],
    ['Passwort\u{11000}: |\n  Zq8vT2xk9\n', 'Zq8vT2xk9'],
    ['db:\n  пароль\u{E0100}: |\n    Zq8vT2xk9\n', 'Zq8vT2xk9'],
  ])('%s: PASSWORD, masked, and refused by the guard', refusedAlone);

  // The mask's span in the text with the astral marks: the value's own characters, to the last one.
  it('masks the value where it stands in the text with the marks', () => {
    expect(masked('пар\u{E0100}оль\u{1D16D}: Zq8v\u{1D167}T2xk!9 next')).toBe('пар\u{E0100}оль\u{1D16D}: [PASSWORD] next');
    expect(masked('a=1&пароль\u{E0100}=Zq8%26vT2xk9&b=2')).toBe('a=1&пароль\u{E0100}=[PASSWORD]&b=2');
  });

  // Read past for the password words only: an astral spacing mark still parts two values for the
  // other detectors (dropping it in the normalizer glued a card to a phone number, and lost one).
  it('leaves the other detectors their separators', () => {
    const types = (text: string) =>
      detect(text)
        .map((f) => f.type)
        .sort();
    expect(types('4111-1111-1111-1111\u{16F51}+44 20 7946 0958')).toEqual(types('4111-1111-1111-1111 +44 20 7946 0958'));
    expect(types('(415) 555-0132\u{1D16D} 192.168.1.10')).toEqual(['IP_ADDRESS', 'PHONE']);
  });
});

describe('named passwords: a form body joins a name of several words by "+"', () => {
  // application/x-www-form-urlencoded writes a blank as "+": a login form posted with the field named
  // in its language ("mot de passe", "kata sandi", "mật khẩu" percent-encoded) passed unmasked.
  it.each([
    ['user=bob&mot+de+passe=Zq8vT2xk9', 'Zq8vT2xk9'],
    // Starting the text, a line's name: its value reads to the line's end, as "password=" does.
    ['mot+de+passe=Zq8vT2xk9&user=bob', 'Zq8vT2xk9&user=bob'],
    ['https://x.example.com/login?user=bob&mot+de+passe=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&kata+sandi=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&kata+laluan=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&m%E1%BA%ADt+kh%E1%BA%A9u=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&%CE%BA%CF%89%CE%B4%CE%B9%CE%BA%CF%8C%CF%82+%CF%80%CF%81%CF%8C%CF%83%CE%B2%CE%B1%CF%83%CE%B7%CF%82=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&%D9%83%D9%84%D9%85%D8%A9+%D8%A7%D9%84%D9%85%D8%B1%D9%88%D8%B1=Zq8vT2xk9', 'Zq8vT2xk9'],
    ['user=bob&%EB%B9%84%EB%B0%80+%EB%B2%88%ED%98%B8=Zq8vT2xk9', 'Zq8vT2xk9'],
  ])('%s: PASSWORD, masked, and refused by the guard', refusedAlone);

  it.each(['q=mot+de+passe+oubli%C3%A9&page=2', 'search?q=kata+sandi+lupa'])('%s: the words as a search, no finding', accepted);
});
