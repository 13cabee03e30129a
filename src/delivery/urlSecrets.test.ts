import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, TEST_CA_PEM, type Receiver, type ReceiverResponse } from '../../test/support/httpsReceiver.js';
import { sampleEvent } from '../siem/testEvents.js';
import { sendRequest, type DeliveryTarget, type SendDeps } from './deliverBatch.js';
import { createOutboundClient, type OutboundClient } from './outbound/client.js';
import { urlSecrets } from './urlSecrets.js';

const SUMO_TOKEN = 'ZaVnC4dhaV3cvL0yQwzp8IkYgMhBBfeBBmXJdZKnWGJvaXR6T2RoaldGJ3ZhbFdTZz09';
const HOOK_TOKEN = 's3cr3t-webhook-token-0123456789';

describe('urlSecrets: the parts of a URL that may be a credential', () => {
  it.each([
    [`https://endpoint1.collection.sumologic.com/receiver/v1/http/${SUMO_TOKEN}`, [SUMO_TOKEN]],
    [`https://hooks.example.com/in?token=${HOOK_TOKEN}&format=json`, [HOOK_TOKEN]],
    ['https://fn.azurewebsites.net/api/ingest?code=aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW==', ['aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW==']],
    // The webhook's id (digits alone) is no secret; its token is.
    ['https://discord.com/api/webhooks/1234567890123456789/Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz', ['Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz']],
    ['https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/abcdEFGH1234ijklMNOP5678', ['abcdEFGH1234ijklMNOP5678']],
    ['https://hooks.zapier.com/hooks/catch/1234567/ab3cd9e/', ['ab3cd9e']],
    ['https://hooks.example.com/in/QwErTyUiOpAsDfGhJkLzXcVb', ['QwErTyUiOpAsDfGhJkLzXcVb']],
    ['https://x.example/in/qwertyuiopasdfghjklzxcvb', ['qwertyuiopasdfghjklzxcvb']],
    ['https://hooks.example.com/in;token=Ab12Cd34', ['Ab12Cd34']],
    ['https://hooks.example.com/in?key=Ab1234x&token=abcd', ['Ab1234x', 'abcd']],
    ['https://hooks.example.com/in?Kq7mZ2xP9vL4tR8', ['Kq7mZ2xP9vL4tR8']],
    ['https://x.example/in?clientSecret=qwertyuiopas&apiToken=abcdefgh', ['qwertyuiopas', 'abcdefgh']],
    // A Teams hook keeps its secret mid-path, as 32 hex digits.
    [
      'https://acme.webhook.office.com/webhookb2/0a1b2c3d-1111-2222-3333-444455556666@0a1b2c3d-1111-2222-3333-444455556666/IncomingWebhook/3f9a1c7e5b2d4f6081a9c3e7b5d2f4a6/0a1b2c3d-1111-2222-3333-444455556666',
      ['3f9a1c7e5b2d4f6081a9c3e7b5d2f4a6', '0a1b2c3d-1111-2222-3333-444455556666'],
    ],
    ['https://h.example.com/in?sig=ab%2Bcd%2Fef%3D12345', ['ab+cd/ef=12345']],
    // Mid-path tokens: a Loggly or Sematext token (Sematext's is the Elastic index), a Telegram bot's,
    // an Apps Script id, a Discord hook with its /slack suffix.
    ['https://logsene-receiver.sematext.com/0a1b2c3d-1111-2222-3333-444455556666/_bulk', ['0a1b2c3d-1111-2222-3333-444455556666']],
    ['https://logs-01.loggly.com/inputs/0a1b2c3d-1111-2222-3333-444455556666/tag/http/', ['0a1b2c3d-1111-2222-3333-444455556666']],
    ['https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage', ['bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw']],
    ['https://script.google.com/macros/s/AKfycbx-abc_DEF123ghiJKL456mnoPQR789stuVWX/exec', ['AKfycbx-abc_DEF123ghiJKL456mnoPQR789stuVWX']],
    ['https://discord.com/api/webhooks/1234567890123456789/Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz/slack', ['Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz']],
    // Credential names as words of the name; an Azure SAS URL's signature, not its dates and flags.
    ['https://x.example/in?X-Amz-Signature=0123abcd4567ef89&X-Amz-Credential=AKIAEXAMPLE%2F20261203', ['0123abcd4567ef89', 'AKIAEXAMPLE/20261203']],
    ['https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-12-31T00:00:00Z&sr=b&sp=w&sig=AbCdEf0123456789%2BAbCd%3D', ['AbCdEf0123456789+AbCd=']],
    // Credential names glued to a prefix (`apitoken`, `secretKey`, `X-Auth-Token2`) and names the word
    // list did not hold (`authorization`, `passphrase`, `jwt`, `ticket`): a value of words counts too.
    ['https://h.example/in?apitoken=CorrectHorseBattery', ['CorrectHorseBattery']],
    ['https://h.example/in?authorization=Zx9Qw2LmPp', ['Zx9Qw2LmPp']],
    ['https://h.example/in?passphrase=correct%20horse%20battery', ['correct horse battery']],
    ['https://h.example/in?accesstoken=staple&authtoken=battery&secretkey=horsey', ['staple', 'battery', 'horsey']],
    ['https://h.example/in?jwt=eyJhbGciOi&ticket=ST-12345-abc', ['eyJhbGciOi', 'ST-12345-abc']],
  ])('finds the secret in %s', (url, secrets) => {
    expect([...urlSecrets(url)].sort()).toEqual([...secrets].sort());
  });

  // SIEM errors name these when the user needs them: a stream, a rule, an index, a channel, tags.
  it.each([
    'https://dce.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-AegisAudit_CL?api-version=2023-01-01',
    'https://my-deployment.es.us-east-1.aws.elastic-cloud.com/logs-aegis.audit-default/_bulk',
    'https://es.example.com/aegis-audit-2026/_bulk?pipeline=logs-aegis.audit@custom',
    'https://splunk.example.com:8088/services/collector/event?index=security_audit2&channel=FE0ECFAD-13D5-401B-847D-77833BD77131',
    'https://http-intake.logs.datadoghq.com/api/v2/logs?ddsource=aegis&ddtags=env:prod,team:security',
    'https://x.example/api/logs?api-version=2016-04-01&source=aegis-audit&format=json_lines',
    'https://x.example/ProcessIncomingEvents',
    'https://log-api.newrelic.com/log/v1',
    // Words that hold a credential's name (keyword, codec, passthrough), names with a number or a date.
    'https://h.example/in?passthrough=true&codec=json&signal=logs&keyword=audit',
    'https://malachiteingestion-pa.googleapis.com/v2/unstructuredlogentries:batchCreate',
    'https://api.honeycomb.io/1/events/aegis-prod2',
    'https://es.example.com/aegis-audit-logs-2026.12.03/_bulk',
    'https://http-intake.logs.datadoghq.com/api/v2/logs?hostname=ip-10-0-1-23.ec2.internal',
    'not a url',
  ])('takes nothing a SIEM names in its errors from %s', (url) => {
    expect(urlSecrets(url)).toEqual([]);
  });
});

// The names a parameter's value is taken under whatever it holds (`word` is a value of words, below
// the length a value needs to be taken on its looks): a name ending in a credential word, lower-cased
// and without separators or a trailing number, or holding one as a word. Over-matching costs a
// `[redacted]` in an echoed answer; under-matching shows a credential.
const NAME_TABLE: Array<[name: string, credential: boolean]> = [
  // Credential words glued to a prefix, in any case and separation.
  ['apitoken', true],
  ['apiToken', true],
  ['API_TOKEN', true],
  ['accesstoken', true],
  ['authtoken', true],
  ['x-auth-token', true],
  ['token2', true],
  ['secretkey', true],
  ['apikey', true],
  ['subscription-key', true],
  ['licensekey', true],
  ['clientsecret', true],
  ['webhooksecret', true],
  ['userpass', true],
  ['dbpasswd', true],
  ['adminpassword', true],
  ['passphrase', true],
  ['keypassphrase', true],
  ['dbpwd', true],
  ['hubsig', true],
  ['hmacsignature', true],
  ['X-Amz-Signature', true],
  ['oauth', true],
  ['basicauth', true],
  ['authorization', true],
  ['proxy-authorization', true],
  ['awscredential', true],
  ['credentials', true],
  ['jwt', true],
  ['idjwt', true],
  ['ticket', true],
  ['serviceticket', true],
  ['auth[token]', true],
  // Glued names that end in a credential word and may well hold one: taken (a cost of a
  // `[redacted]` if they hold a setting). Vercel's protection bypass is a secret in the query string.
  ['x-vercel-protection-bypass', true],
  ['sortkey', true],
  ['partitionkey', true],
  ['dedupkey', true],
  ['monkey', true],
  // The word list as before: credential words anywhere in the name, at its separators or capitals.
  ['code', true],
  ['code_challenge', true],
  ['sas_token', true],
  ['pw', true],
  ['hmac', true],
  // Not credentials: the credential word is inside another word, not at the end of the name.
  ['keyword', false],
  ['keywords', false],
  ['passthrough', false],
  ['codec', false],
  ['signal', false],
  ['design', false],
  ['author', false],
  ['authority', false],
  ['tokenizer', false],
  ['keys_only', false],
  ['ticketing', false],
  ['password_policy', true],
  // `code`, `pw` and `sas` end too many ordinary words to count at the end of a glued name.
  ['zipcode', false],
  ['errorcode', false],
  ['statuscode', false],
  ['kansas', false],
  ['format', false],
  ['index', false],
  // The password word of other languages (the guard's list, namedPassword.ts): as a word, glued to a
  // prefix, with its accents or without, a multi-word one in any joining, again ("Passwort_neu").
  ['passwort', true],
  ['Passwort', true],
  ['dbPasswort', true],
  ['Passwort_neu', true],
  ['kennwort', true],
  ['wachtwoord', true],
  ['contraseña', true],
  ['CONTRASEÑA', true],
  ['contrasena', true],
  ['contrasen\u0303a', true],
  ['contraseña_nueva', true],
  ['lösenord', true],
  ['losenord', true],
  ['mot_de_passe', true],
  ['motDePasse', true],
  ['mot de passe', true],
  ['mot_de_passe_actuel', true],
  ['nouveau_mot_de_passe', true],
  ['senha', true],
  ['nova_senha', true],
  ['novaSenha', true],
  ['şifre', true],
  ['ŞİFRE', true],
  ['jelszó', true],
  ['salasana', true],
  ['passord', true],
  ['adgangskode', true],
  ['mật_khẩu', true],
  ['matKhau', true],
  ['kata_sandi', true],
  ['пароль', true],
  ['密码', true],
  ['用户密码', true],
  ['パスワード', true],
  ['κωδικός_πρόσβασης', true],
  ['ΚΩΔΙΚΟΣ_ΠΡΟΣΒΑΣΗΣ', true],
  ['كلمة_المرور', true],
  ['סיסמה', true],
  // The spellings people type them in: Arabic drawn out with tatweel (U+0640), with "ه" for the final
  // "ة", indefinite ("كلمة مرور"); Korean as decomposed jamo (NFD, as macOS writes it); German's "ß"
  // and its capital "ẞ". "المرور" alone is traffic ("حركة_المرور"), "مرور" passage: neither names one.
  ['كلمـة_المـرور', true],
  ['كلمــــةالمــــرور', true],
  ['كلمه_المرور', true],
  ['كلمة_مرور', true],
  ['كلمه_مرور', true],
  ['كلمه_السر', true],
  ['\u1107\u1175\u1106\u1175\u11af\u1107\u1165\u11ab\u1112\u1169', true],
  ['\u1111\u1162\u1109\u1173\u110b\u116f\u1103\u1173', true],
  ['Paßwort', true],
  ['paßwort', true],
  ['PAẞWORT', true],
  ['dbPaßwort', true],
  ['Paßwort_neu', true],
  ['حركة_المرور', false],
  ['مرور', false],
  // Tatweel dropped only after an Arabic letter: between Latin words it glued "db" and "pw" into a
  // "dbpw" that ends in no word, and the credential went unscrubbed. A Persian keyboard's keheh "ک"
  // for "ك"; Korean's word with a blank (as a separator) between its halves.
  ['db\u0640pw', true],
  ['auth\u0640code', true],
  ['x\u0640sas', true],
  ['my\u0640senha', true],
  ['كلم\u0640\u0640\u0640\u0640\u0640\u0640\u0640\u0640\u0640\u0640ة_المرور', true],
  ['کلمة_المرور', true],
  ['کلمه_السر', true],
  ['비밀_번호', true],
  ['비밀번호', true],
  // senha, şifre and kata sandi end other words: only as words of their own.
  ['resenha', false],
  ['desenha', false],
  ['deşifre', false],
  ['berkatasandi', false],
  ['passe', false],
  ['mot', false],
  // A change of script parts words as a separator does: a Latin credential word glued to Chinese or Cyrillic.
  ['用户pw', true],
  ['授权code', true],
  ['token令牌', true],
  ['apiKey密钥', true],
  ['ключtoken', true],
  // A word that ends ordinary words (the guard's `alone` ones) is not glued together from parts of a
  // name. (The others are, as `pass_word` is `password`: a name whose letters end in one names it.)
  ['sen_ha', false],
  ['Si_fre', false],
  ['kode_ord', true],
  // Compatibility forms and Turkish's dotless i, as the privacy guard reads them.
  ['ﾊﾟｽﾜｰﾄﾞ', true],
  ['ｐａｓｓｗｏｒｄ', true],
  ['sıfre', true],
];

describe('urlSecrets: which parameter names are credentials', () => {
  it.each(NAME_TABLE)('%s: its value is taken when credential is %s', (name, credential) => {
    // A value of words, shorter than a value taken on its looks alone.
    const secrets = urlSecrets(`https://h.example/in?${encodeURIComponent(name)}=word`);
    expect(secrets).toEqual(credential ? ['word'] : []);
  });
});

// What a SIEM, or a proxy in front of it, answers when it quotes the request line: the token in the
// URL came back in the delivery log's snippet, the destination's last error and the alerts quoting it.
describe('a token in the destination URL never comes back in what the delivery keeps', () => {
  let receiver: Receiver;
  let client: OutboundClient;
  let deps: SendDeps;
  let answer: (url: string) => ReceiverResponse = () => ({ status: 200, body: '' });

  beforeAll(async () => {
    receiver = await startReceiver((req) => answer(req.path));
    client = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-test/1', ca: TEST_CA_PEM });
    deps = { client, hostname: 'aegis-test', userAgent: 'aegis-test/1' };
  });
  afterAll(async () => {
    await client.close();
    await receiver.close();
  });

  const target = (siem: DeliveryTarget['siem'], path: string): DeliveryTarget => ({
    orgId: 'org_urlsecret',
    id: `fwd_urlsecret_${siem}`,
    siem,
    url: `${receiver.url}${path}`,
    authHeaderName: null,
    authHeaderValue: null,
    signingSecret: null,
    previousSigningSecret: null,
    oauth: null,
    options: {},
    format: 'ecs',
  });

  const cases: Array<[string, (url: string) => ReceiverResponse]> = [
    ['a 400 page quoting the request line', (url) => ({ status: 400, body: `bad request to ${url}` })],
    ['a 500 answer naming the path', (url) => ({ status: 500, body: JSON.stringify({ error: 'upstream', path: url }) })],
    ['a redirect to the same path elsewhere', (url) => ({ status: 308, headers: { location: `https://endpoint1.collection.sumologic.com${url}/` }, body: '' })],
  ];

  it.each(cases)("Sumo Logic's path token, %s", async (_name, respond) => {
    answer = respond;
    const out = await sendRequest(deps, target('sumo_logic', `/receiver/v1/http/${SUMO_TOKEN}`), [sampleEvent(1)]);
    const kept = JSON.stringify([out.error, out.responseSnippet, out.items]);
    expect(out.error).not.toBeNull();
    expect(kept).toContain('[redacted]');
    expect(kept).not.toContain(SUMO_TOKEN.slice(0, 24));
  });

  // Names glued or in full, a password named in another language, and a name sent percent-encoded (as
  // a URL carries it): the SIEM quotes the request line as sent.
  it.each([
    ['apitoken', 'CorrectHorseBattery'],
    ['authorization', 'Zx9Qw2LmPp'],
    ['passphrase', 'correct-horse-battery-staple'],
    ['accesstoken', 'TroubadorHorse'],
    ['ticket', 'ST-1a2b3c'],
    ['passwort', 'Zx9Qw2LmPp'],
    ['contrase%C3%B1a', 'Zx9Qw2LmPp'],
    ['l%C3%B6senord', 'Geh%C3%A9im42'],
    ['mot%20de%20passe', 'Zx9Qw2LmPp'],
    ['senha_atual', 'Zx9Qw2LmPp'],
    ['%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C', 'Zx9Qw2LmPp'],
    ['pa%C3%9Fwort', 'Zx9Qw2LmPp'],
    ['%D9%83%D9%84%D9%85%D9%80%D8%A9_%D8%A7%D9%84%D9%85%D8%B1%D9%88%D8%B1', 'Zx9Qw2LmPp'],
    ['%D9%83%D9%84%D9%85%D9%87_%D9%85%D8%B1%D9%88%D8%B1', 'Zx9Qw2LmPp'],
    ['%E1%84%87%E1%85%B5%E1%84%86%E1%85%B5%E1%86%AF%E1%84%87%E1%85%A5%E1%86%AB%E1%84%92%E1%85%A9', 'Zx9Qw2LmPp'],
  ])("a custom webhook's ?%s=, echoed as sent in a 400 request line", async (name, value) => {
    answer = (url) => ({ status: 400, body: `Cannot POST ${url}` });
    const out = await sendRequest(deps, target('custom', `/in?${name}=${value}`), [sampleEvent(1)]);
    const kept = JSON.stringify([out.error, out.responseSnippet, out.items]);
    expect(out.error).not.toBeNull();
    expect(kept).toContain(`?${name}=[redacted]`);
    expect(kept).not.toContain(value);
    expect(kept).not.toContain(value.slice(0, 6));
  });

  it.each(cases)("a custom webhook's ?token=, %s", async (_name, respond) => {
    answer = respond;
    const out = await sendRequest(deps, target('custom', `/hook?token=${HOOK_TOKEN}`), [sampleEvent(1)]);
    const kept = JSON.stringify([out.error, out.responseSnippet, out.items]);
    expect(out.error).not.toBeNull();
    expect(kept).not.toContain(HOOK_TOKEN.slice(0, 16));
  });
});
