import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../support/db.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';
import { agentRecord, countRows } from './support.js';

// Spellings that carried a secret or a personal value past the privacy guard, each verified leaking
// through the real API: an agent record's summary holding it was accepted and forwarded, and
// POST /preflight returned it unmasked. Each is now refused with a 400 naming the field, and masked.
// One service per database for all of them.

// A JWT as an identity provider issues one (RS256 header with a key id, a payload naming a person) with
// a 32-byte signature from a fixed seed, short enough for a summary's 500 characters once wrapped.
const HEADER = Buffer.from('{"alg":"RS256","typ":"JWT","kid":"k1"}').toString('base64url');
const PAYLOAD = Buffer.from('{"sub":"8f2c1a","email":"jane.doe@example.com","name":"Jane Doe"}').toString('base64url');
const SIGNATURE = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 97 + 13) % 256)).toString('base64url');
const JWT = `${HEADER}.${PAYLOAD}.${SIGNATURE}`;

/** The token's lines when hard-wrapped at 64 columns: no one of them may leave the request. */
function lines(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < token.length; i += 64) out.push(token.slice(i, i + 64));
  return out;
}
const JWT_LINES = lines(JWT);
const GITHUB_PIECES = ['ghp_Pl4ntedT0kenAbCd', 'EfGhIjKlMnOpQrStUvWx'];

// A secret broken across lines, as verified leaking through the summary: [name, text, pieces].
const WRAPPED: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['a JWT hard-wrapped with spaces', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join(' ')}`, JWT_LINES],
  ['a JWT hard-wrapped with escaped line breaks', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\\n')}`, JWT_LINES],
  ['a JWT hard-wrapped with U+2028', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\u2028')}`, JWT_LINES],
  ['a JWT hard-wrapped with NEL', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\u0085')}`, JWT_LINES],
  ['a JWT split after its dots', `Blocked JWT ${HEADER}. ${PAYLOAD}. ${SIGNATURE}`, [HEADER, PAYLOAD, SIGNATURE]],
  ['a GitHub token split by a space', `Blocked GitHub token ${GITHUB_PIECES.join(' ')}`, GITHUB_PIECES],
  ['a GitHub token split by an escaped line break', `Blocked GitHub token ${GITHUB_PIECES.join('\\n')}`, GITHUB_PIECES],
];

// A password in a URL's user part whose host has no dot (a container or service name): no address
// reading covered it, so an agent record's summary carrying it was accepted and forwarded, and
// preflight returned it unmasked.
const PASSWORD = 'S3cr3tPassw0rd';
const URL_SUMMARY = `Blocked postgres://admin:${PASSWORD}@db-primary:5432/prod`;

// An address percent-encoded twice, as a redirect parameter holding an already-encoded query carries
// it: an agent record's summary with it used to be accepted and forwarded, and POST /preflight
// returned it unmasked.
const ENCODED_SUMMARY = 'Masked EMAIL in GET /login?next=%2Fprofile%3Femail%3Djane.doe%2540example.com';

// A host name that spells its address (AWS's "ip-10-1-2-3.ec2.internal").
const HOST_SUMMARY = 'Masked IP_ADDRESS on ip-10-1-2-3.ec2.internal';

// A password given as the value of a name that says so: no detector read it, so preflight allowed it
// unmasked and an agent record carrying it in any field was stored and forwarded. [name, text, masked].
const NAMED_PASSWORD = 'Hunter2Secret!';
const NAMED: ReadonlyArray<readonly [string, string, string]> = [
  ['a query parameter', `https://api.example.com/login?user=bob&password=${NAMED_PASSWORD}`, 'https://api.example.com/login?user=bob&password=[PASSWORD]'],
  ['an environment variable', `DB_PASSWORD=${NAMED_PASSWORD}`, 'DB_PASSWORD=[PASSWORD]'],
  ['a connection string', `Server=db;User Id=sa;Password=${NAMED_PASSWORD};`, 'Server=db;User Id=sa;Password=[PASSWORD];'],
  ['a Go MySQL DSN', `bob:${NAMED_PASSWORD}@tcp(db.internal:3306)/prod`, 'bob:[PASSWORD]@tcp(db.internal:3306)/prod'],
  ['a mysql command line', `mysql -u root -p${NAMED_PASSWORD} db`, 'mysql -u root -p[PASSWORD] db'],
  // Each of these was allowed unmasked by preflight (an attacker review, verified through detect()).
  ['a form body with an encoded "&" in the password', `username=bob&password=Ab%26${NAMED_PASSWORD}`, 'username=bob&password=[PASSWORD]'],
  ['an env file value holding ";"', `DB_PASSWORD=x7;${NAMED_PASSWORD}`, 'DB_PASSWORD=[PASSWORD]'],
  ['a JSON value holding an escaped quote', `{"password":"Zq8\\"-${NAMED_PASSWORD}"}`, '{"password":"[PASSWORD]"}'],
  ["ODBC's braced value", `Server=db;Uid=sa;Pwd={${NAMED_PASSWORD}};`, 'Server=db;Uid=sa;Pwd={[PASSWORD]};'],
  [
    'a confirmation field',
    `{"password":"${NAMED_PASSWORD}","password_confirmation":"${NAMED_PASSWORD}"}`,
    '{"password":"[PASSWORD]","password_confirmation":"[PASSWORD]"}',
  ],
  ['a _PASS name', `SMTP_PASS=${NAMED_PASSWORD}`, 'SMTP_PASS=[PASSWORD]'],
  ['SQL', `ALTER USER app IDENTIFIED BY '${NAMED_PASSWORD}';`, "ALTER USER app IDENTIFIED BY '[PASSWORD]';"],
  ['a curl command line', `curl -u bob:${NAMED_PASSWORD} https://api.example.com/v1`, 'curl -u bob:[PASSWORD] https://api.example.com/v1'],
];

// Stand-ins the guard refused while preflight allowed them (the guard read the named detector over
// its "_"-spaced identifier form): both now let them through.
const NAMED_STAND_INS = ['mysql -u root -pYOUR_PASSWORD', 'mysql -u root -p"$MYSQL_PWD"', 'mysql -u root -p${MYSQL_PWD}', 'password_value=X', 'pwd=.\\build'];

// Spellings of a secret's name or a token that an agent record's summary carried past the guard to the
// SIEM (verified leaking through POST /audit-events and POST /preflight): a name in a Turkish locale's
// case (İ, ı), a letter of another script in a quoted name's prefix, and the password word split by
// a separator. [name, text, the secret].
const SPELLED_KEY = 'Zq8sK2vLp9Xm4Tn7Rw1Yb6Hc';
const SPELLED: ReadonlyArray<readonly [string, string, string]> = [
  ['APİ_KEY (Turkish upper case)', `Blocked APİ_KEY=${SPELLED_KEY}`, SPELLED_KEY],
  ['apı_key in JSON (Turkish lower case)', `Blocked {"apı_key": "${SPELLED_KEY}"}`, SPELLED_KEY],
  ['PRİVATE_KEY', `Blocked PRİVATE_KEY=${SPELLED_KEY}`, SPELLED_KEY],
  ['clıent_secret in JSON', `Blocked {"clıent_secret": "${SPELLED_KEY}"}`, SPELLED_KEY],
  ['an accented prefix of a quoted name', `Blocked {"cl\u00edent_secret": "${SPELLED_KEY}"}`, SPELLED_KEY],
  ['pass_phrase', `Blocked pass_phrase=${SPELLED_KEY}`, SPELLED_KEY],
  ['pass-word', `Blocked pass-word=${SPELLED_KEY}`, SPELLED_KEY],
  // An attacker review's: the text as written (a value holding an escape, read whole) missed the
  // Turkish spelling, and a run of separators was no split word.
  ['APİ_KEY whose value holds an encoded space', `Blocked APİ_KEY=${SPELLED_KEY.slice(0, 12)}%20${SPELLED_KEY.slice(12)}`, SPELLED_KEY.slice(12)],
  [
    'APİ_KEY in a query, its value holding an encoded "&"',
    `Blocked GET /x?user=bob&APİ_KEY=${SPELLED_KEY.slice(0, 12)}%26${SPELLED_KEY.slice(12)}&y=1`,
    SPELLED_KEY.slice(12),
  ],
  ['pass__word', `Blocked pass__word=${SPELLED_KEY}`, SPELLED_KEY],
  // The password word in other languages (a reviewer's): each passed the guard and preflight unmasked.
  ['Passwort', 'Blocked Passwort=Hunter2Secret!', 'Hunter2Secret!'],
  ['CONTRASEÑA as a JSON key', 'Blocked {"CONTRASEÑA": "Hunter2Secret!"}', 'Hunter2Secret!'],
  ['mot de passe', 'Blocked mot de passe : Hunter2Secret!', 'Hunter2Secret!'],
  ['пароль', 'Blocked пароль=Hunter2Secret!', 'Hunter2Secret!'],
  ['密码 after a prefix, with a fullwidth colon', 'Blocked 用户密码：Hunter2Secret!', 'Hunter2Secret!'],
  // An attacker review's: a localized word (or only its letters) inside the value made the value a
  // form's label; a camelCase prefix hid senha and şifre; a password glued to CJK prose; a combining
  // tilde in the name as written hid a value holding an escape.
  ['a password holding the word Passwort', 'Blocked password=Passwort123!', 'Passwort123!'],
  ['mysql -p with Kennwort in the password', 'Blocked mysql -u root -pKennwort2024 db', 'Kennwort2024'],
  ["a password holding senha's letters", 'Blocked password=Nasenhaar2024!', 'Nasenhaar2024!'],
  ['novaSenha (camelCase)', 'Blocked novaSenha=Hunter2Secret!', 'Hunter2Secret!'],
  ['yeniŞifre (camelCase) as a JSON key', 'Blocked {"yeniŞifre": "Hunter2Secret!"}', 'Hunter2Secret!'],
  ['a password glued to CJK prose', 'Blocked 初始密码：Hunter2Secret!，请登录后修改', 'Hunter2Secret!'],
  ['contraseña with a combining tilde, its value holding an escape', 'Blocked GET /login?contrasen\u0303a=Ab%26Hunter2Secret&x=1', 'Hunter2Secret'],
  // Prose in the password word's own language, and a form body's "+" between a name's words: each
  // was accepted and forwarded, and preflight returned it unmasked.
  ['German prose', 'Blocked: das Passwort für den Server lautet Hunter2Secret', 'Hunter2Secret'],
  ['Chinese prose, the verb glued on', 'Blocked 您的密码已重置为：Hunter2Secret，请妥善保管', 'Hunter2Secret'],
  ['Japanese prose, the value in brackets', 'Blocked パスワードは「Hunter2Secret」です', 'Hunter2Secret'],
  ['a Turkish one-time password', 'Blocked Şifreniz: 483920', '483920'],
  ['a form body\'s "+" in mot de passe', 'Blocked user=bob&mot+de+passe=Hunter2Secret', 'Hunter2Secret'],
  // A password set, reset or changed to its value, the verb after the word or before it.
  ['a password reset to its value', 'Blocked: your password has been reset to Hunter2Secret', 'Hunter2Secret'],
  ['an admin setting a password', 'Blocked: admin set the root password for db-prod-2 to Hunter2Secret', 'Hunter2Secret'],
  ['Italian prose, the English word', 'Blocked: la password temporanea del wifi è Hunter2Secret', 'Hunter2Secret'],
  ['a password successfully reset by an admin', 'Blocked: your password has been successfully reset by admin to Hunter2Secret', 'Hunter2Secret'],
  ["an audit diff's new password", "Blocked: field password changed from 'OldPass1' to 'Hunter2Secret'", 'Hunter2Secret'],
  ['a short name after its verb', 'Blocked: pls reset my pw to Hunter2Secret', 'Hunter2Secret'],
  ['Polish prose', 'Blocked: Twoje nowe hasło to: Hunter2Secret', 'Hunter2Secret'],
  ['Czech prose', 'Blocked: Vaše heslo je Hunter2Secret', 'Hunter2Secret'],
  ['a Polish label with its adjective', 'Blocked: Nowe hasło: Hunter2Secret', 'Hunter2Secret'],
  ['a diff hiding its old password', 'Blocked: password changed from ******** to Hunter2Secret', 'Hunter2Secret'],
  ['a password of a policy shape', 'Blocked: my password is WINTER-2024', 'WINTER-2024'],
  ['a past password before more words', 'Blocked: the password was Kot!2024x yesterday', 'Kot!2024x'],
  ['a password reset in an HTML e-mail', 'Blocked: <p>Your password has been reset to <b>Kot!2024x</b></p>', 'Kot!2024x'],
  ['a password reset for a user', 'Blocked: Password reset for user bob to Kot!2024x', 'Kot!2024x'],
  ['a reset password and a service desk ticket', 'Blocked: password reset to Welcome2024 per INC0012345', 'Welcome2024'],
  ['a question ending on the password, its repeat', 'Blocked: can you change my password to Hunter2Secret? I typed Hunter2Secret twice', 'Hunter2Secret'],
];

// A password change as audit logs, plans and APIs record one, both values under the password's name:
// each was accepted and forwarded, and preflight returned the new value (and all but Terraform's the
// old one) unmasked. [name, text, the values].
const CHANGES: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ["Terraform's plan", '  ~ password = "Kot!2024x" -> "Hunter2Secret"', ['Kot!2024x', 'Hunter2Secret']],
  ['a change record of old and new', '{"changes":{"password":{"old":"Kot!2024x","new":"Hunter2Secret"}}}', ['Kot!2024x', 'Hunter2Secret']],
  ["a change log's pair", '{"object_changes":{"password":[null,"Hunter2Secret"]}}', ['Hunter2Secret']],
  ["a field's old and new values", '{"field":"password","old_value":"Kot!2024x","new_value":"Hunter2Secret"}', ['Kot!2024x', 'Hunter2Secret']],
  ['a JSON Patch', '[{"op":"replace","path":"/password","value":"Hunter2Secret"}]', ['Hunter2Secret']],
];

// A credential in the shapes tools copy a request in (an attacker review): each was accepted and
// forwarded, and preflight returned it unmasked. [name, text, the value].
const COPIED_REQUESTS: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['a session cookie as a JSON member', 'Blocked paste: {"cookie":"sessionid=Zq8vT2xkP9mW4rLt"}', ['Zq8vT2xkP9mW4rLt']],
  ["a HAR entry's cookie", '{"name": "Cookie", "value": "sessionid=Zq8vT2xkP9mW4rLt"}', ['Zq8vT2xkP9mW4rLt']],
  ["a HAR entry's Authorization header", '{"name":"Authorization","value":"Token Zq8vT2xkP9mW4rLt"}', ['Zq8vT2xkP9mW4rLt']],
  ['an Authorization header with no scheme', 'Blocked header Authorization: Zq8vT2xkP9mW4rLt', ['Zq8vT2xkP9mW4rLt']],
  ["a form's bracketed password", 'Blocked form post user[password]=Zq8vT2xkP9mW4rLt', ['Zq8vT2xkP9mW4rLt']],
];

// Named secrets longer than a password, and a real token with a run of one character (an attacker
// review): a value over 256 characters was read as a blob, and an AWS session token's
// "//////////" as a value filled in for show. Both were accepted and forwarded. [name, text, the value].
const LONG_KEY = Array.from({ length: 8 }, (_, i) => createHash('sha256').update(`long bearer token ${i}`).digest('base64url'))
  .join('')
  .slice(0, 336);
const STS_START = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDxK8Zz9Lm4Tn7Rw1Yb6Hc2Pq5Vs8Xd0Fg3Jk';
const LONG_SECRETS: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['a bearer token of 336 characters', `Blocked Authorization: Bearer ${LONG_KEY}`, [LONG_KEY]],
  ["an AWS session token's start, with its run of slashes", `Blocked X-Amz-Security-Token: ${STS_START}`, [STS_START]],
];

// Ordinary tenant text the spellings above first made refused (an attacker review): "pass" glued
// after a letter of any script, a blank between "pass" and "word" or "phrase". Each is accepted.
const ORDINARY = [
  // A password's schema, validation rules and errors are no change of it.
  '{"password": {"type": "string", "minLength": 12}}',
  '{"password": ["required", "min:12"]}',
  '{"errors": {"password": ["The password must be at least 12 characters."]}}',
  '测试全部pass: run-42',
  // Prose's links read only in the word's own language, and a topic particle's other uses.
  'Failed to update password on db-prod-2',
  'Password policy changed to require 12 characters',
  'Settings updated. Password to user01 only after approval',
  'La password è scaduta',
  'Password reset to 6-digit PIN',
  'Reset password for svc-backup to 90-day rotation',
  'Password changed to 2FA-enabled',
  'Hasło to podstawa bezpieczeństwa',
  'Password changed from host01',
  'Changed my season pass to Gold-2024',
  'Password rotated to vault-2024 path',
  'reset password to origin/main',
  'pwd reset to build-2024',
  'パスワードはuser01さんが変更しました',
  'テストpass: build-1234',
  '登机牌pass: AB1234CD',
  'Fußpass: Nr10-Mueller',
  'Reiseßpass: X1234567',
  '测试pass word: abc12345',
  'result=pass word=Wrong1234',
  'status: pass word: abc12345',
  'bus pass phrase: Zone2-Monthly',
  'the bus pass word is Zone2Monthly',
  'Let me pass word: Serendipity2024 to you',
  // Prose naming the password in other languages, and the words left out of their list.
  'Das Passwort wurde geändert.',
  'Olvidé mi contraseña',
  '密码已更改',
  'Resenha: Filme-2024',
  'Heslo: „Pravda vítězí"',
  // CJK prose after the name (no blanks: the rest of the sentence was one value), a translation
  // file's label, and a longer word ending in senha.
  '密码：已于2024年5月1日重置',
  'パスワード：変更しました（再ログインが必要）',
  '密码：已修改（操作人：admin）',
  '{"비밀번호": "8자이상(영문,숫자)"}',
  '{"password": "Passwort:"}',
  'desenha: Casa-2024',
];

describe.each(DB_KINDS)('spellings past the privacy guard, through the real API (%s)', (kind) => {
  const ctx = serviceWithOrg(kind);
  const post = (path: string, body: unknown) => ctx.svc.request('POST', `/api/orgs/${ctx.org.orgId}${path}`, { apiKey: ctx.org.apiKey, body });
  /** POST /audit-events with `summary` in its second record: refused naming the field, nothing stored, no leak in the answer or the logs. */
  const refusedStoringNothing = async (summary: string, leaks: readonly string[]) => {
    const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
    const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ decision: 'BLOCKED', summary })] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain('events[1].summary');
    for (const leak of leaks) expect(res.text).not.toContain(leak);
    expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
    const logs = ctx.svc.logs.text();
    for (const leak of leaks) expect(logs).not.toContain(leak);
    return res;
  };

  // Two attacker reviews': an SSN written in Unicode tag characters (invisible, read by language
  // models) was accepted in actor_id and summary, forwarded, and returned unmasked by preflight.
  describe('an SSN hidden in tag characters', () => {
    const hidden = [...'123-45-6789'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    it('POST /audit-events refuses it in actor_id and summary, naming the fields, storing nothing', async () => {
      const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
      const res = await post('/audit-events', {
        events: [agentRecord({ actor_id: `a${hidden}` }), agentRecord({ decision: 'BLOCKED', summary: `Detected SSN; blocked. ${hidden}` })],
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toContain('events[0].actor_id');
      expect(JSON.stringify(res.body.error.details)).toContain('/events/1/summary');
      expect(res.text).not.toContain(hidden);
      expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
    });

    it('POST /preflight masks it whole', async () => {
      const res = await post('/preflight', { input: `My SSN is ${hidden} thanks` });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
      expect(res.body.masked_input).toBe('My SSN is [SSN] thanks');
    });
  });

  describe('characters that make a line display as another', () => {
    // A black-box review's: a bidirectional override made "admin\u202emoc.elpmaxe@evil" an accepted
    // actor_id, displayed in a SIEM as another address; NEL breaks a line for some log splitters.
    it('POST /audit-events refuses them in actor_id and summary, naming the fields, storing nothing', async () => {
      const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
      const res = await post('/audit-events', {
        events: [agentRecord({ actor_id: 'admin\u202emoc.elpmaxe@evil' }), agentRecord({ decision: 'BLOCKED', summary: 'Detected SSN;\u0085 blocked.' })],
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toContain(
        'events[0].actor_id: must not contain line breaks, tabs, other control characters, invisible spaces or bidirectional marks',
      );
      expect(JSON.stringify(res.body.error.details)).toContain('summary');
      expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
    });
  });

  describe('secrets broken across lines', () => {
    it.each(WRAPPED)('POST /audit-events refuses %s in the summary, naming the field', async (_name, summary, pieces) => {
      await refusedStoringNothing(summary, pieces);
    });

    it.each([
      ...WRAPPED,
      ['a JWT hard-wrapped with newlines', `Bearer ${JWT_LINES.join('\n')}`, JWT_LINES],
      ['a JWT hard-wrapped with CRLF', `Bearer ${JWT_LINES.join('\r\n')}`, JWT_LINES],
      ['a GitHub token split by a newline', `token ${GITHUB_PIECES.join('\n')}`, GITHUB_PIECES],
    ] as const)('POST /preflight blocks %s and masks every piece', async (_name, input, pieces) => {
      const res = await post('/preflight', { input });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      const masked = res.body.masked_input as string;
      expect(masked).toMatch(/\[(?:JWT|GITHUB_TOKEN)\]$/);
      for (const piece of pieces) {
        expect(masked).not.toContain(piece);
        expect(res.text).not.toContain(piece);
      }
    });
  });

  describe("a secret's name or a token in a spelling the guard missed", () => {
    it.each(SPELLED)('POST /audit-events refuses %s in the summary, naming the field, storing nothing', async (_name, summary, secret) => {
      await refusedStoringNothing(summary, [secret]);
    });

    it.each(SPELLED)('POST /preflight blocks %s and masks it', async (_name, input, secret) => {
      const res = await post('/preflight', { input });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(res.body.masked_input).toContain('[PASSWORD]');
      expect(res.text).not.toContain(secret);
    });

    // Every value of each found and masked: both of a change, the one of a copied request.
    it.each([...CHANGES, ...COPIED_REQUESTS, ...LONG_SECRETS])('POST /preflight blocks %s and masks every value', async (_name, input, secrets) => {
      const res = await post('/preflight', { input });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(res.body.finding_counts_by_type).toEqual({ PASSWORD: secrets.length });
      for (const secret of secrets) expect(res.text).not.toContain(secret);
    });

    it.each([...CHANGES, ...COPIED_REQUESTS, ...LONG_SECRETS])(
      'POST /audit-events refuses %s in the summary, naming the field, storing nothing',
      async (_name, summary, secrets) => {
        await refusedStoringNothing(summary, secrets);
      },
    );

    it("POST /preflight masks a Turkish-cased name's escaped value as it masks the ASCII name's, whole", async () => {
      for (const ascii of [
        `API_KEY=${SPELLED_KEY.slice(0, 12)}%20${SPELLED_KEY.slice(12)}`,
        `GET /x?user=bob&API_KEY=${SPELLED_KEY.slice(0, 12)}%26${SPELLED_KEY.slice(12)}&y=1`,
      ]) {
        const [a, t] = await Promise.all([post('/preflight', { input: ascii }), post('/preflight', { input: ascii.replace('API', 'APİ') })]);
        expect(t.body.decision, ascii).toBe(a.body.decision);
        expect(t.body.finding_counts_by_type, ascii).toEqual(a.body.finding_counts_by_type);
        expect(t.body.masked_input, ascii).toBe((a.body.masked_input as string).replace('API', 'APİ'));
      }
    });

    it.each(ORDINARY)('POST /preflight allows %s unmasked, and POST /audit-events accepts it in a summary', async (text) => {
      const pre = await post('/preflight', { input: text });
      expect(pre.status, pre.text).toBe(200);
      expect(pre.body.finding_counts_by_type, text).toEqual({});
      expect(pre.body.masked_input).toBe(text);
      const res = await post('/audit-events', { events: [agentRecord({ summary: text })] });
      expect(res.status, res.text).toBe(200);
    });
  });

  describe('a password in a connection string', () => {
    it('POST /audit-events refuses the summary with a 400 naming the field, never echoing the password', async () => {
      const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
      for (const summary of [URL_SUMMARY, `DATABASE_URL=postgresql://app:Zq8sK2vLp9@postgres/app`, 'amqp://guest:G7hK2mPq@rabbitmq:5672/']) {
        const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary })] });
        expect(res.status, summary).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(res.body.error.message).toContain('events[1].summary');
        expect(res.body.error.message).toContain('PASSWORD');
        expect(res.text).not.toContain(PASSWORD);
      }
      expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
      expect(ctx.svc.logs.text()).not.toContain(PASSWORD);
    });

    it('POST /preflight blocks and masks the password only, keeping the user and the host readable', async () => {
      const res = await post('/preflight', { input: URL_SUMMARY });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(res.body.finding_counts_by_type).toEqual({ PASSWORD: 1 });
      expect(res.body.masked_input).toBe('Blocked postgres://admin:[PASSWORD]@db-primary:5432/prod');
      expect(res.text).not.toContain(PASSWORD);
    });

    it('POST /preflight masks the password and the IP address beside it', async () => {
      const res = await post('/preflight', { input: 'mysql://root:hunter2@10.0.0.5/app' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(res.body.masked_input).toBe('mysql://root:[PASSWORD]@[IP_ADDRESS]/app');
    });
  });

  describe('a password as the value of its name', () => {
    it.each(NAMED)('POST /preflight blocks %s and masks the password only', async (_name, input, masked) => {
      const res = await post('/preflight', { input });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(res.body.summary).toBe('Detected PASSWORD; blocked.');
      expect(res.body.masked_input).toBe(masked);
      expect(res.text).not.toContain(NAMED_PASSWORD);
    });

    it.each(NAMED)('POST /audit-events refuses %s in the summary, naming the field', async (_name, value) => {
      const res = await refusedStoringNothing(value, [NAMED_PASSWORD]);
      expect(res.body.error.message).toContain('PASSWORD');
    });

    it.each(NAMED_STAND_INS)('preflight allows %s, and the guard accepts it in a summary', async (text) => {
      const pre = await post('/preflight', { input: text });
      expect(pre.status, pre.text).toBe(200);
      expect(pre.body.finding_counts_by_type, text).toEqual({});
      const res = await post('/audit-events', { events: [agentRecord({ summary: text })] });
      expect(res.status, res.text).toBe(200);
    });
  });

  describe('a value encoded in layers', () => {
    it('POST /audit-events refuses the double-encoded address in a summary, naming the field', async () => {
      const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
      const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary: ENCODED_SUMMARY })] });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('events[1].summary');
      expect(res.text).not.toContain('jane.doe');
      expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
      expect(ctx.svc.logs.text()).not.toContain('jane.doe');
    });

    it('POST /preflight masks the whole double-encoded address', async () => {
      const res = await post('/preflight', { input: ENCODED_SUMMARY });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
      expect(res.body.finding_counts_by_type).toEqual({ EMAIL: 1 });
      // How much of the URL before the address the mask takes is the e-mail detector's reading; none
      // of the address nor of its escape is left.
      expect(res.body.masked_input).toMatch(/^Masked EMAIL in GET \S*\[EMAIL\]$/);
      expect(res.body.masked_input).not.toMatch(/jane|doe|example|%25|2540/);
    });
  });

  // A hostile tenant's review: this service's own API keys passed every guard (a preflight returned
  // one unmasked, an actor_id and a destination's name carried one to the SIEM and the dashboard).
  describe("this service's own API keys", () => {
    it('are blocked in a preflight, refused in a record and in a destination name, and never echoed', async () => {
      const other = await ctx.svc.newOrg('Another org');
      const pf = await post('/preflight', { input: `the key is ${other.apiKey} ok` });
      expect(pf.status, pf.text).toBe(200);
      expect(pf.body.decision).toBe('BLOCKED');
      expect(pf.text).not.toContain(other.apiKey);
      await refusedStoringNothing(`Blocked ${other.apiKey}`, [other.apiKey]);
      const actor = await post('/audit-events', { events: [agentRecord({ actor_id: ctx.org.apiKey })] });
      expect(actor.status, actor.text).toBe(400);
      expect(actor.text).not.toContain(ctx.org.apiKey);
      const named = await post('/forwarding-destinations', { name: other.apiKey, siem: 'custom', url: 'https://siem.example.com/in' });
      expect(named.status, named.text).toBe(400);
      expect(named.text).not.toContain(other.apiKey);
    });
  });

  // A hostile tenant's review: a preflight with a lone surrogate (a text split by index, as the 413
  // advises, can cut an emoji) got a 400 "cannot be stored as text" and no decision, though the input
  // is never stored.
  describe('preflight input that could not be stored', () => {
    it.each([
      ['a lone high surrogate', 'SSN 123-45-6789 \\ud83d and jane@example.com'],
      ['a lone low surrogate', '\\ude00 SSN 123-45-6789 and jane@example.com'],
    ])('is scanned and answered with %s, the values masked', async (_name, escaped) => {
      const res = await ctx.svc.request('POST', `/api/orgs/${ctx.org.orgId}/preflight`, { apiKey: ctx.org.apiKey, rawBody: `{"input":"${escaped}"}` });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
      expect(Object.keys(res.body.finding_counts_by_type as object).sort()).toEqual(['EMAIL', 'SSN']);
      expect(res.text).not.toMatch(/123-45-6789|jane@example/);
    });

    // An attacker's review of that change: NULs were read as spaces, and a UTF-16 text read as UTF-8
    // (a NUL after every character) was answered ALLOWED with its SSN, card and token unmasked.
    it('refuses NUL characters in the input, saying what they likely are, and answers no decision', async () => {
      const utf16 = Buffer.from('Patient SSN 123-45-6789, card 4111 1111 1111 1111', 'utf16le').toString('utf8');
      const res = await post('/preflight', { input: utf16 });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toBe(
        'input: contains NUL characters (\\u0000), as UTF-16 text read as UTF-8 does; decode the text as UTF-16 (or remove them) and send it again',
      );
      expect(res.text).not.toMatch(/123|4111/);
    });

    // A second review: a lone surrogate inside a value hid it, as a zero-width space once did.
    it('reads a value with a lone surrogate inside it as the value', async () => {
      const token = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5x';
      const input = `${token.slice(0, 4)}\\ud800${token.slice(4)} and SSN 123-45-\\udc006789 and jane.doe@exa\\ud800mple.com`;
      const res = await ctx.svc.request('POST', `/api/orgs/${ctx.org.orgId}/preflight`, { apiKey: ctx.org.apiKey, rawBody: `{"input":"${input}"}` });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('BLOCKED');
      expect(Object.keys(res.body.finding_counts_by_type as object).sort()).toEqual(['EMAIL', 'GITHUB_TOKEN', 'SSN']);
      expect(res.text).not.toMatch(/aB3dE5gH7|123-45|6789|jane|mple/);
    });

    it('still refuses them in the fields that are stored', async () => {
      const res = await ctx.svc.request('POST', `/api/orgs/${ctx.org.orgId}/preflight`, {
        apiKey: ctx.org.apiKey,
        rawBody: '{"input":"hello","actor_id":"svc\\u0000bot"}',
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toMatch(/^actor_id: .*cannot be stored as text/);
    });
  });

  describe('addresses in cloud host names', () => {
    it('POST /audit-events refuses the summary with a 400 naming the field, and stores nothing', async () => {
      const before = await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId);
      const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ summary: HOST_SUMMARY })] });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('events[1].summary');
      expect(res.body.error.message).toContain('IP_ADDRESS');
      expect(res.text).not.toContain('10-1-2-3');
      expect(await countRows(ctx.tdb.db, 'audit_events', ctx.org.orgId)).toBe(before);
    });

    it('POST /preflight masks the address and keeps the host name around it', async () => {
      const res = await post('/preflight', { input: HOST_SUMMARY });
      expect(res.status, res.text).toBe(200);
      expect(res.body.decision).toBe('ALLOWED_WITH_MASKING');
      expect(res.body.masked_input).toBe('Masked IP_ADDRESS on ip-[IP_ADDRESS].ec2.internal');
      expect(Object.keys(res.body.finding_counts_by_type as object)).toEqual(['IP_ADDRESS']);
      expect(res.text).not.toContain('10-1-2-3');
    });
  });
});
