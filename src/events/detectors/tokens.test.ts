import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { countByType } from '../findings.js';
import { evaluatePolicy } from '../policy.js';
import { MiB, fill, found, typesIn } from '../../../test/support/detection.js';
import { ALNUM, BASE64URL, HEX, randomOf, VENDOR_TOKENS } from '../../../test/support/fakeKeys.js';

const HOOK_PATH = 'services/T01ABCDEF23/B04GHIJKL56/aBcDeFgHiJkLmNoPqRsTuVwX';
const WORKFLOW = 'https://hooks.slack.com/workflows/T01ABCDEF23/A05MNOPQR78/412345678901234567/aBcDeFgHiJkLmNoPqRsTuVwX';
const TRIGGER = 'https://hooks.slack.com/triggers/T01ABCDEF23/5123456789012/0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';
const REFRESH = 'xoxe-1-My0xLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIzLWFiY2RlZmdoaWprbG1ub3A';
const SESSION = 'xoxc-1234567890123-1234567890123-1234567890123-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';
/** A "d" cookie as the browser's cookie jar writes it: base64, percent-encoded. */
const COOKIE = 'xoxd-aBcDeFgH%2FiJkLmNoPqRsT%2BuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ%3D%3D';

describe('Slack webhook URLs', () => {
  it('does not report the bare host or path, nor a URL without its ids and secret', () => {
    expect(typesIn('Incoming webhooks look like https://hooks.slack.com/services/... (see hooks.slack.com/services/)')).toEqual([]);
    expect(typesIn('curl -X POST https://hooks.slack.com/workflows/XXXXXX/XXXXX/XXXXX/XXXXXXXXXXXXXXXXXX')).toEqual([]);
    expect(typesIn('"https://hooks.slack.com/triggers/T000/123/SECRET", "https://hooks.slack.com/services/xxx/xxx/xxx"')).toEqual([]);
    expect(typesIn('https://hooks.slack.com/services/T01ABCDEF23/B04GHIJKL56')).toEqual([]);
    // Another host that merely contains Slack's, or ends in it.
    expect(typesIn(`https://webhooks.slack.com/${HOOK_PATH} https://my.hooks.slack.com/${HOOK_PATH}`)).toEqual([]);
    expect(typesIn(`https://hooks.slack.example/${HOOK_PATH}`)).toEqual([]);
  });

  it('finds Workflow Builder webhooks and workflow triggers, and masks the whole URL', () => {
    expect(found(`notify: ${WORKFLOW}`)).toEqual([['SLACK_TOKEN', WORKFLOW]]);
    expect(found(`curl -X POST ${TRIGGER} -d '{}'`)).toEqual([['SLACK_TOKEN', TRIGGER]]);
    // An Enterprise Grid organisation's trigger starts with its E id.
    const grid = 'https://hooks.slack.com/triggers/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';
    expect(found(`WEBHOOK_URL = '${grid}';`)).toEqual([['SLACK_TOKEN', grid]]);
    expect(detectAndMask(`url=${TRIGGER}&x=1`).masked).toBe('url=[SLACK_TOKEN]&x=1');
  });

  it('finds a webhook written without a scheme, over http, upper-cased, with a port, or on GovSlack', () => {
    for (const url of [
      `hooks.slack.com/${HOOK_PATH}`,
      `http://hooks.slack.com/${HOOK_PATH}`,
      `https://HOOKS.SLACK.COM/${HOOK_PATH}`,
      `https://hooks.slack.com:443/${HOOK_PATH}`,
      `https://hooks.slack-gov.com/${HOOK_PATH}`,
    ]) {
      expect(found(`webhook_url: ${url}`)).toEqual([['SLACK_TOKEN', url]]);
    }
  });

  it('finds a webhook escaped in JSON or percent-encoded in a query string', () => {
    const json = WORKFLOW.replaceAll('/', '\\/');
    expect(found(`{"url":"${json}"}`)).toEqual([['SLACK_TOKEN', json]]);
    const encoded = encodeURIComponent(`https://hooks.slack.com/${HOOK_PATH}`);
    expect(found(`/settings?hook=${encoded}&save=1`)).toEqual([['SLACK_TOKEN', encoded]]);
  });

  it("keeps reporting Slack's documented example URL", () => {
    const example = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
    expect(found(example)).toEqual([['SLACK_TOKEN', example]]);
  });
});

describe('Slack tokens and the session cookie', () => {
  it('does not report a prefix in prose, nor an elided value', () => {
    expect(typesIn('Bot tokens start with xoxb-, session tokens with xoxc- and refresh tokens with xoxe-.')).toEqual([]);
    expect(typesIn('SLACK_TOKEN=xoxc-<...elided...> SLACK_COOKIE=xoxd-<...elided...> cookie: xoxd-... or xoxd-…')).toEqual([]);
    expect(typesIn('xoxz-1234567890 xoxe.xoxz-1234567890 xoxd-short')).toEqual([]);
  });

  it('finds rotation refresh tokens, and a rotated access token with its "xoxe." prefix', () => {
    expect(found(`"refresh_token": "${REFRESH}"`)).toEqual([['SLACK_TOKEN', REFRESH]]);
    const access = `xoxe.xoxp-1-${REFRESH.slice(7)}`;
    expect(found(`"access_token": "${access}"`)).toEqual([['SLACK_TOKEN', access]]);
  });

  it('finds browser session tokens', () => {
    expect(found(`SLACK_TOKEN=${SESSION}`)).toEqual([['SLACK_TOKEN', SESSION]]);
  });

  it('finds the "d" cookie percent-encoded in a Cookie header, up to the next cookie', () => {
    expect(found(`Cookie: d=${COOKIE}; d-s=1700000000; lc=1700000000`)).toEqual([['SLACK_TOKEN', COOKIE]]);
    expect(detectAndMask(`curl -b 'd=${COOKIE}' https://app.slack.com/api/auth.test`).masked).toBe(
      "curl -b 'd=[SLACK_TOKEN]' https://app.slack.com/api/auth.test",
    );
  });

  it('finds the "d" cookie decoded, with the "/", "+" and "=" of base64', () => {
    const decoded = decodeURIComponent(COOKIE);
    expect(found(`SLACK_COOKIE="${decoded}"`)).toEqual([['SLACK_TOKEN', decoded]]);
  });

  it('keeps reporting placeholders as tokens, as it did', () => {
    expect(found('token: xoxb-your-token')).toEqual([['SLACK_TOKEN', 'xoxb-your-token']]);
  });

  it('reads no tool or repository name as a cookie: a cookie is long and holds a digit', () => {
    for (const text of [
      'See https://github.com/rusq/slackdump/wiki/xoxd-cookie/README.md for details',
      'git clone https://github.com/acme/xoxd-cookie-extractor.git',
      'file name: xoxd-backup-2024-01-01.tar.gz',
      'cookie: xoxd-test-token',
      'https://github.com/acme/xoxd-cookie-extractor/blob/main/src/lib/session/reader/export.ts',
    ])
      expect(found(text), text).toEqual([]);
  });

  it('finds workflow tokens', () => {
    const token = 'xwfp-7423859183747-6372819384756-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
    expect(found(`"bot_access_token": "${token}"`)).toEqual([['SLACK_TOKEN', token]]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  it.each([
    ['webhook hosts and ids without a secret', fill('hooks.slack.com/services/T0000000/B0000000/')],
    ['schemes, ports and a near secret', fill(`https://HOOKS.slack-gov.com:443/triggers/E1234567/1234567/${'a'.repeat(19)} `)],
    ['workflow paths and an over-long last segment', fill(`hooks.slack.com/workflows/T1234567/A1234567/1234567/${'a'.repeat(70)}/`)],
    ['scheme runs', fill('https://http://')],
    ['token prefixes with rotation prefixes', fill('xoxe.xoxc-')],
    // Whole units only: a run cut short by the end of the text would be a token.
    ['over-long token runs', ` xoxc-${'1'.repeat(251)}`.repeat(Math.floor(MiB / 257))],
    ['cookie prefixes', fill('xoxd-;')],
    ['cookie prefixes and a near value', fill(`;xoxd-${'a'.repeat(9)}`)],
    // The AI provider, GitLab, Hugging Face and npm prefixes: runs of prefixes (one attempt each),
    // bodies one short of their length, over-long bodies, and bodies without their ending.
    ['runs of key prefixes', fill('sk-proj-sk-ant-api03-glpat-hf_npm_')],
    ['OpenAI placeholder bodies', fill(` sk-proj-${'x_'.repeat(75)}`)],
    ['OpenAI bodies of markers, over-long', fill(` sk-admin-${'T3BlbkFJ'.repeat(60)}`)],
    ['legacy OpenAI keys one short', fill(` sk-${'a'.repeat(20)}T3BlbkFJ${'a'.repeat(19)}-`)],
    ['Anthropic bodies without "AA"', fill(` sk-ant-api03-${'A'.repeat(94)}B`)],
    ['GitLab payloads, over-long', ` glpat-${'aB1'.repeat(110)}`.repeat(Math.floor(MiB / 337))],
    ['GitLab placeholders and near routable tails', fill(` glrt-${'a'.repeat(30)}.0r.03gxo7s.0`)],
    ['Hugging Face bodies one short', fill(` hf_${'aB'.repeat(16)}c_`)],
    ['npm bodies one short', fill(` npm_${'aB1'.repeat(11)}cd_`)],
  ])('%s complete, finding nothing', (_name, text) => {
    expect(found(text)).toEqual([]);
  });

  it.each([
    ['an OpenAI prefix', 'sk-proj-'],
    ['an Anthropic prefix', 'sk-ant-api03-'],
    ['a GitLab prefix', 'glpat-'],
    ['a Hugging Face prefix', 'hf_'],
    ['an npm prefix', 'npm_'],
  ])('%s before a 1 MiB run of its alphabet completes, finding nothing', (_name, prefix) => {
    expect(found(`${prefix}${fill('aB1')}`)).toEqual([]);
  });

  it('a 1 MiB run of cookie characters completes, as one finding', () => {
    const text = `d=${fill('=xoxd-1')}`;
    expect(found(text)).toEqual([['SLACK_TOKEN', text.slice(3)]]);
    expect(text.length).toBe(MiB + 2);
  });
});

// Keys written for these tests in each vendor's documented shape (random bodies, no real key).
const OPENAI_PROJECT =
  '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';
const OPENAI_SERVICE_ACCOUNT =
  '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';
const OPENAI_ADMIN = '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';
const OPENAI_LEGACY = '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';
const ANTHROPIC = 'sk-ant-api03-_TXc0Oc0pZ2_saYLlodyWKp2mRqZzUbSyo4IFHKPNAP0ZsIFd7qU8NC5rhsU1PXQd2kicgNNdYGegZA1NlLQ3rA71HO8eAA';
const ANTHROPIC_ADMIN = 'sk-ant-admin01-6CUJOOGJQ9MkkaIGbU2-8Zf-M0NOcIxdYcIHdXfj5W7dU3xc7gKVqlgyuS9nHw1ozXKijauUDaojZ9nuJOxYFBy3-_sLQAA';
const GITLAB_PAT = 'glpat-eVpXPt_26KbrUA-OpQ9G';
const GITLAB_ROUTABLE = 'glpat-zdUqoAND40jav4IgVmoAlNIRJrhDnFxq9Feubg.01.4negryiav';
const GITLAB_TRIGGER = 'glptt-0a5439ed4e49e6e1c774ce592a78055d329cdad2';
const GITLAB_OAUTH_SECRET = 'gloas-zGqyIka4nN3S5q2vB4_wSKKMW5WtORomacaRQ7uVHr0ftATf_50Lqde_97A9Hqy4';
const GITLAB_JOB = 'glcbt-oW_S9otuNWs9oZb55vhK-od';
const HUGGINGFACE = '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';
const NPM = 'npm_H5O2thvh72XOFEIxSsWoRtk6NndNB8sxZ402';

/** What runPreflight answers for the text (events/record.ts), less the database. */
function preflightOf(text: string) {
  const { masked, findings } = detectAndMask(text);
  const counts = countByType(findings);
  return { decision: evaluatePolicy(counts).decision, counts, masked };
}

describe('AI provider, GitLab, Hugging Face and npm tokens', () => {
  it.each([
    ['OPENAI_API_KEY', OPENAI_PROJECT, 'OPENAI_API_KEY="%s"'],
    ['OPENAI_API_KEY', OPENAI_SERVICE_ACCOUNT, 'Authorization: Bearer %s'],
    ['OPENAI_API_KEY', OPENAI_ADMIN, 'export OPENAI_ADMIN_KEY=%s'],
    ['OPENAI_API_KEY', OPENAI_LEGACY, "openai.api_key = '%s'"],
    ['ANTHROPIC_API_KEY', ANTHROPIC, 'client = Anthropic(api_key="%s")'],
    ['ANTHROPIC_API_KEY', ANTHROPIC_ADMIN, 'curl -H "x-api-key: %s" https://api.anthropic.com/v1/organizations/users'],
    ['GITLAB_TOKEN', GITLAB_PAT, 'git clone https://oauth2:%s@gitlab.com/acme/app.git'],
    ['GITLAB_TOKEN', GITLAB_ROUTABLE, 'PRIVATE-TOKEN: %s'],
    ['GITLAB_TOKEN', GITLAB_TRIGGER, 'curl -X POST -F token=%s -F ref=main https://gitlab.example.com/api/v4/projects/9/trigger/pipeline'],
    ['GITLAB_TOKEN', GITLAB_OAUTH_SECRET, 'client_secret: %s'],
    ['GITLAB_TOKEN', GITLAB_JOB, 'CI_JOB_TOKEN=%s.'],
    ['HUGGINGFACE_TOKEN', HUGGINGFACE, 'huggingface-cli login --token %s'],
    ['NPM_TOKEN', NPM, '//registry.npmjs.org/:_authToken=%s'],
  ])('preflight blocks a %s, counted once and masked, never echoed', (type, token, template) => {
    const text = `Why does this fail? ${template.replace('%s', token)}`;
    const r = preflightOf(text);
    expect(r.decision).toBe('BLOCKED');
    expect(r.counts).toEqual({ [type]: 1 });
    expect(r.masked).toBe(text.replace(token, `[${type}]`));
    expect(r.masked).not.toContain(token.slice(-12));
  });
});

describe('AI provider, GitLab, Hugging Face and npm tokens: shapes', () => {
  it('finds each GitLab prefix the token overview lists, legacy or routable', () => {
    const body = 'eVpXPt_26KbrUA-OpQ9G';
    for (const prefix of ['glpat-', 'gloas-', 'gldt-', 'glrt-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glsoat-', 'glffct-']) {
      expect(found(`token: ${prefix}${body}`), prefix).toEqual([['GITLAB_TOKEN', `${prefix}${body}`]]);
    }
    // A routable token without the version, and a runner's ("t1_" names its kind).
    for (const token of ['glpat-bz0x79Of-KE9FD2LjoXXF4CvyxA.0r03gxo7s', 'glrt-t1_zdUqoAND40jav4IgVmoAlNIRJrhD.0r03gxo7s']) {
      expect(found(`"${token}"`)).toEqual([['GITLAB_TOKEN', token]]);
    }
    // The sentence's full stop after a legacy token, or after a routable one, is no part of it.
    expect(found(`Use ${GITLAB_PAT}. Then ${GITLAB_ROUTABLE}.`)).toEqual([
      ['GITLAB_TOKEN', GITLAB_PAT],
      ['GITLAB_TOKEN', GITLAB_ROUTABLE],
    ]);
  });

  it('finds a key in JSON, after an escaped line break, and percent-encoded or \\u-escaped', () => {
    expect(found(`{"env":{"ANTHROPIC_API_KEY":"${ANTHROPIC}"}}`)).toEqual([['ANTHROPIC_API_KEY', ANTHROPIC]]);
    expect(found(`"key:\\n${NPM}"`)).toEqual([['NPM_TOKEN', NPM]]);
    // encodeURIComponent leaves "-" and "_" as they are; a client that encodes every symbol does not.
    const encoded = OPENAI_PROJECT.replaceAll('-', '%2D').replaceAll('_', '%5F');
    expect(found(`GET /proxy?key=${encoded}&model=gpt-4o`)).toEqual([['OPENAI_API_KEY', encoded]]);
    const escaped = GITLAB_PAT.replaceAll('-', '\\u002d');
    expect(found(`{"token":"${escaped}"}`)).toEqual([['GITLAB_TOKEN', escaped]]);
    expect(found(`hf%5F${HUGGINGFACE.slice(3)}`)).toEqual([['HUGGINGFACE_TOKEN', `hf%5F${HUGGINGFACE.slice(3)}`]]);
  });

  it('finds a token inside an HTTP Basic pair as its own type (basicAuth.ts)', () => {
    const auth = Buffer.from(`ci:${NPM}`).toString('base64');
    expect(found(`//registry.npmjs.org/:_auth=${auth}`)).toEqual([['NPM_TOKEN', auth]]);
    const basic = Buffer.from(`oauth2:${GITLAB_PAT}`).toString('base64');
    expect(found(`Authorization: Basic ${basic}`)).toEqual([['GITLAB_TOKEN', basic]]);
  });

  it('finds two keys side by side as two findings', () => {
    expect(found(`${OPENAI_LEGACY},${ANTHROPIC}`)).toEqual([
      ['OPENAI_API_KEY', OPENAI_LEGACY],
      ['ANTHROPIC_API_KEY', ANTHROPIC],
    ]);
  });

  it('reads no prose, package, option or environment name as a token', () => {
    for (const text of [
      'pip install scikit-learn; import sklearn; the sk-learn docs; sk-proj- and sk-ant- are key prefixes',
      'npm_config_cache=/tmp/.npm npm_package_version=1.2.3 npm_lifecycle_event=test npm_config_user_agent',
      'from huggingface_hub import hf_hub_download; hf_transfer; HF_HUB_ENABLE_HF_TRANSFER=1',
      'GitLab tokens start with glpat-, gldt-, glrt- or glptt-; see glpat-example and glpat-<token>',
      // Placeholders of the real length: one case, or one character repeated.
      'HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx NPM_TOKEN=npm_000000000000000000000000000000000000',
      'GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx or glpat-XXXXXXXXXXX-XXXXXXXX or glpat-your_access_token_here',
      `OPENAI_API_KEY=sk-proj-${'x'.repeat(156)} ANTHROPIC_API_KEY=sk-ant-api03-${'x'.repeat(93)}AA`,
      // Names that carry a prefix inside a longer word.
      '- (id)hf_requiredCharacteristicTypesForDisplayMetadata; desktop-rhf_SponsoredProductsRemoteRHFSearchEXPSub',
      'mask-proj-settings and disk-proj-a1b2c3 and tensorflow-glpat-plugin',
      // GitLab's own documentation and runbooks: words after a prefix, not a token.
      'see the glsoat-Service-Account-Token docs and glimt-incoming-mail-token25',
      'rotate glft-feed-token-1234-5678-abcd-efgh yearly',
    ])
      expect(found(text), text).toEqual([]);
  });

  it('reads a GitLab token whose random body happens to hold two word-like segments', () => {
    expect(typesIn('GITLAB_TOKEN=glpat-nkcqq3_ieucc-AoPGH95')).toEqual(['GITLAB_TOKEN']);
  });

  it('reads a project key without the marker as a key: a new kind of key is a key all the same', () => {
    const key = `sk-proj-${OPENAI_PROJECT.slice(8).replace('T3BlbkFJ', 'T3BlbkFK')}`;
    expect(typesIn(`OPENAI_API_KEY=${key}`)).toEqual(['OPENAI_API_KEY']);
  });

  it('reads no key of the wrong length, version or marker', () => {
    for (const text of [
      // A legacy key with its marker out of place.
      `sk-${OPENAI_LEGACY.slice(4)}x`,
      // Anthropic: one character short, "BB" for "AA", a version not documented.
      ANTHROPIC.slice(0, -3) + 'AA',
      ANTHROPIC.slice(0, -2) + 'BB',
      ANTHROPIC.replace('api03', 'api02'),
      // Hugging Face: 33 or 35 letters, a digit in the body; npm: 35 or 37 characters.
      HUGGINGFACE.slice(0, -1),
      `${HUGGINGFACE}x`,
      `${HUGGINGFACE.slice(0, -1)}7`,
      NPM.slice(0, -1),
      `${NPM}x`,
      // GitLab: 19 characters, an unlisted prefix.
      GITLAB_PAT.slice(0, -1),
      `glxyz-${GITLAB_PAT.slice(6)}`,
    ])
      expect(found(`value ${text} end`), text).toEqual([]);
  });
});

/** Base64url of a JSON text as written (spaces, line breaks and all), as a JWT segment. */
const segment = (json: string) => Buffer.from(json).toString('base64url');
/** A JWT of the header and payload texts, signed with HMAC-SHA-256 (a test key), or unsigned ("alg": "none"). */
function jwt(header: string, payload: string, signed = true): string {
  const data = `${segment(header)}.${segment(payload)}`;
  return `${data}.${signed ? createHmac('sha256', 'test-only-key').update(data).digest('base64url') : ''}`;
}
const CLAIMS = '{"sub":"1234567890","email":"jane@example.com"}';

// A review found these JWTs forwarded as they were: no signature, or JSON written with a blank or a
// line break after its brace ("eyAi", "ewog", "ew0K" rather than "eyJ").
describe('JWT shapes', () => {
  it('finds an unsigned token ("alg": "none", an empty signature after the last dot), masked whole', () => {
    const unsigned = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZW1haWwiOiJqYW5lQGV4YW1wbGUuY29tIn0.';
    expect(jwt('{"alg":"none"}', CLAIMS, false)).toBe(unsigned);
    expect(found(`debug token=${unsigned} from the SPA`)).toEqual([['JWT', unsigned]]);
    expect(found(`{"id_token": "${unsigned}"}`)).toEqual([['JWT', unsigned]]);
    const r = preflightOf(`Why is this rejected? ${unsigned}`);
    expect(r).toEqual({ decision: 'BLOCKED', counts: { JWT: 1 }, masked: 'Why is this rejected? [JWT]' });
    // The alg=none attack's spellings.
    for (const alg of ['None', 'NONE']) {
      const token = jwt(`{"alg":"${alg}","typ":"JWT"}`, CLAIMS, false);
      expect(found(`x-auth: ${token}`)).toEqual([['JWT', token]]);
    }
  });

  it('reads a signed header and payload with no signature after the dot as no token: cut off, or a full stop', () => {
    const signed = jwt('{"alg":"HS256","typ":"JWT"}', CLAIMS);
    const cut = signed.slice(0, signed.lastIndexOf('.') + 1);
    expect(found(`header and claims: ${cut} (signature elided)`)).toEqual([]);
    expect(found(`The claims are ${cut.slice(0, -1)}.`)).toEqual([]);
  });

  it.each([
    ['a blank after each brace', '{ "alg": "HS256", "typ": "JWT" }', '{ "sub": "1234567890" }', 'eyAi'],
    ['a line break and indentation', '{\n  "alg": "HS256",\n  "typ": "JWT"\n}', '{\n  "sub": "1234567890"\n}', 'ewog'],
    ['CRLF line breaks', '{\r\n  "alg": "RS256"\r\n}', '{\r\n  "sub": "1234567890"\r\n}', 'ew0K'],
    ['a tab', '{\t"alg": "HS256"}', CLAIMS, 'ewki'],
  ])('finds a token whose JSON has %s, signed or not, masked whole', (_name, header, payload, start) => {
    for (const token of [jwt(header, payload), jwt(header.replace(/"[HR]S256"/, '"none"'), payload, false)]) {
      expect(token.startsWith(start)).toBe(true);
      expect(found(`Authorization header was ${token} today`)).toEqual([['JWT', token]]);
      const masked = detectAndMask(`curl -H "X-Session: ${token}" https://api.example.com`).masked;
      expect(masked).toBe('curl -H "X-Session: [JWT]" https://api.example.com');
    }
  });

  it("finds the reviewer's token with blanks in its JSON", () => {
    const token = 'eyAiYWxnIjogIkhTMjU2IiwgInR5cCI6ICJKV1QiIH0.eyAic3ViIjogIjEyMzQ1Njc4OTAiIH0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    expect(found(`token: ${token}`)).toEqual([['JWT', token]]);
  });

  it('finds an unsigned token, or one of those shapes, split at its dots across lines', () => {
    const unsigned = jwt('{"alg":"none"}', CLAIMS, false);
    const [h, p] = unsigned.split('.');
    expect(found(`token:\n${h}.\n${p}.\nthanks`)).toEqual([['JWT', `${h}.\n${p}.`]]);
    const spaced = jwt('{ "alg": "HS256" }', '{ "sub": "1234567890" }');
    const split = spaced.split('.').join('.\n');
    expect(found(`token:\n${split}\nthanks`)).toEqual([['JWT', split]]);
    const spacedUnsigned = jwt('{\n  "alg": "none"\n}', '{\n  "sub": "1234567890"\n}', false).split('.').join('.\n');
    expect(found(`token:\n${spacedUnsigned}\nthanks`)).toEqual([['JWT', spacedUnsigned.slice(0, -1)]]);
    // Header and payload on one line, the signature on the next: the signature is part of it.
    const signed = jwt('{"alg":"HS256"}', CLAIMS);
    const lastBreak = signed.replace(/\.(?=[^.]*$)/, '.\n');
    expect(found(`token: ${lastBreak}\nthanks`)).toEqual([['JWT', lastBreak]]);
  });

  it('reads no ordinary dotted text as a token', () => {
    for (const text of [
      'eyes.open.now and eyes.open.',
      'see www.example.com. or docs.example.co.uk. or api.v2.example.org',
      'version 1.2.3. and node 20.11.1. and eyJ.eyJ. and ewok.ewok.ewok.',
      // Shaped like the new starts, decoding to no JSON object.
      'eyAlphabetical.eyAlphabet. ewokAdventures.ewokTravels. ew0KelvinScale.ew0Kelvin.',
      'ewoksAreFurry.ewoksAreSmall.signatureHere1',
      // A header alone, or a header and payload without the last dot.
      `header ${segment('{"alg":"none"}')}. and ${segment('{"alg":"none"}')}.${segment(CLAIMS)} only`,
    ])
      expect(found(text), text).toEqual([]);
  });
});

// Keys written for these tests in each provider's documented shape (test/support/fakeKeys.ts).
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';
const SENDGRID = `SG.${randomOf(BASE64URL, 22, 1)}.${randomOf(BASE64URL, 43, 2)}`;
const PYPI = `pypi-AgEIcHlwaS5vcmc${randomOf(BASE64URL, 160, 3)}`;
const VAULT_SERVICE = `hvs.${randomOf(BASE64URL, 91, 4)}`;
const VAULT_BATCH = `hvb.${randomOf(BASE64URL, 140, 5)}`;
const VAULT_RECOVERY = `hvr.${randomOf(BASE64URL, 91, 6)}`;
const DIGITALOCEAN = `dop_v1_${randomOf(HEX, 64, 7)}`;
const DIGITALOCEAN_OAUTH = `doo_v1_${randomOf(HEX, 64, 8)}`;
const DIGITALOCEAN_REFRESH = `dor_v1_${randomOf(HEX, 64, 9)}`;
const POSTMAN = `PMAK-${randomOf(HEX, 24, 10)}-${randomOf(HEX, 34, 12)}`;
const AGE = `AGE-SECRET-KEY-1${randomOf(BECH32, 58, 13)}`;
const TERRAFORM = `${randomOf(ALNUM, 14, 14)}.atlasv1.${randomOf(BASE64URL, 67, 15)}`;
const TELEGRAM = `123456789:AA${randomOf(BASE64URL, 33, 16)}`;

// A review found each of these forwarded as it was (the Telegram token's digits masked as an SSN,
// its secret half left). Reported as PASSWORD: a secret of no type of its own.
describe('more provider tokens', () => {
  it.each([
    ['SendGrid', SENDGRID, 'sg.setApiKey("%s")'],
    ['PyPI', PYPI, 'twine upload -u __token__ -p %s dist/*'],
    ['Vault service', VAULT_SERVICE, 'vault login %s'],
    ['Vault batch', VAULT_BATCH, 'batch: %s (expired)'],
    ['Vault recovery', VAULT_RECOVERY, 'recovery token %s'],
    ['DigitalOcean personal', DIGITALOCEAN, 'doctl auth init -t %s'],
    ['DigitalOcean OAuth', DIGITALOCEAN_OAUTH, 'got %s back'],
    ['DigitalOcean refresh', DIGITALOCEAN_REFRESH, '{"refresh": "%s"}'],
    ['Postman', POSTMAN, 'postman collection run 26671222 -k %s'],
    ['age', AGE, '# created: 2024-01-01\n# public key: age1xyz\n%s'],
    ['Terraform Cloud', TERRAFORM, 'terraform login wrote %s to credentials.tfrc.json'],
    ['Telegram bot', TELEGRAM, 'curl https://api.telegram.org/bot%s/getMe'],
  ])('preflight blocks a %s token, one finding masked whole, never echoed', (_name, token, template) => {
    const text = `Why does this fail? ${template.replace('%s', token)}`;
    expect(found(text)).toEqual([['PASSWORD', token]]);
    const r = preflightOf(text);
    expect(r.decision).toBe('BLOCKED');
    expect(r.masked).toBe(text.replace(token, '[PASSWORD]'));
    for (const part of token.split(/[.:_-]/).filter((p) => p.length >= 8)) expect(r.masked).not.toContain(part);
  });

  it('finds a Telegram token whole, not its digits as an SSN', () => {
    expect(found(`BOT_TOKEN: ${TELEGRAM}`)).toEqual([['PASSWORD', TELEGRAM]]);
    expect(preflightOf(`bot ${TELEGRAM} down`).counts).toEqual({ PASSWORD: 1 });
    for (const digits of ['12345678', '1234567890']) {
      const token = `${digits}:AA${randomOf(BASE64URL, 33, 17)}`;
      expect(found(`t=${token};`), digits).toEqual([['PASSWORD', token]]);
    }
  });

  it('reads no ordinary word, name, placeholder or near shape as a token', () => {
    for (const text of [
      // Prefixes in prose and names.
      'MSG.Hello and SG.example.com and SG.sendgrid-api-key-here; pypi-AgE is the prefix; see hvs.example.org',
      'PMAK-your-api-key and AGE-SECRET-KEY-1... and dop_v1_your_token and doo_v1_ and dor_v1_xxxx',
      'the atlasv1 token format: <id>.atlasv1.<secret>; host01.atlasv1.example.com',
      // The length or alphabet one off.
      `SG.${randomOf(BASE64URL, 21, 1)}.${randomOf(BASE64URL, 43, 2)} SG.${randomOf(BASE64URL, 22, 1)}.${randomOf(BASE64URL, 42, 2)}`,
      `dop_v1_${randomOf(HEX, 63, 7)} dop_v1_${randomOf(HEX, 65, 7)} dop_v2_${randomOf(HEX, 64, 7)}`,
      `PMAK-${randomOf(HEX, 23, 10)}-${randomOf(HEX, 34, 12)} PMAK-${randomOf(HEX, 24, 10)}-${randomOf(HEX, 33, 12)}`,
      `AGE-SECRET-KEY-1${randomOf(BECH32, 57, 13)} AGE-SECRET-KEY-1${randomOf(BECH32, 57, 13)}B`,
      `hvs.${randomOf(BASE64URL, 40, 4)} pypi-AgE${randomOf(BASE64URL, 40, 3)}`,
      `${randomOf(ALNUM, 13, 14)}.atlasv1.${randomOf(BASE64URL, 67, 15)} ${randomOf(ALNUM, 14, 14)}.atlasv1.${randomOf(BASE64URL, 50, 15)}`,
      // Placeholders of the real length.
      `SG.${'x'.repeat(22)}.${'x'.repeat(43)} hvs.${'X'.repeat(95)} AGE-SECRET-KEY-1${'Q'.repeat(58)}`,
      `${'x'.repeat(14)}.atlasv1.${'x'.repeat(67)} dop_v1_${'0'.repeat(64)} PMAK-${'0'.repeat(24)}-${'0'.repeat(34)}`,
    ])
      expect(found(text), text).toEqual([]);
    // Times, ratios and ids with a colon: no "AA" and 33 more (nine digits alone read as an SSN).
    for (const text of [
      'at 12:30:45, ratio 123456789:1, order 123456789:ABCDEF, build 12345678:AAbc',
      `digits 123456789:BB${randomOf(BASE64URL, 33, 16)} and 1234567:AA${randomOf(BASE64URL, 33, 16)}`,
      `id 12345678:AA${'A'.repeat(33)} and 12345678:AA${randomOf(BASE64URL, 34, 16)}`,
    ])
      expect(typesIn(text), text).not.toContain('PASSWORD');
  });

  it.each([
    ['runs of prefixes', fill('SG.pypi-AgEhvs.dop_v1_PMAK-AGE-SECRET-KEY-1.atlasv1.')],
    ['SendGrid ids without a secret', fill(`SG.${'a'.repeat(22)}.`)],
    ['bot ids and a secret one short', fill(`1234567890:AA${'a'.repeat(32)}.`)],
    ['Terraform ids and over-long secrets', fill(`${'a'.repeat(14)}.atlasv1.${'aB1'.repeat(24)}.`)],
    ['age keys one short', fill(`AGE-SECRET-KEY-1${'Q'.repeat(57)} `)],
    // Each segment starts "{ " and a control character: no JSON.
    ['JWT starts of every kind', fill('eyAeyJewoew0ewk.')],
    ['JWT headers without a payload', fill(`eyAi${'a'.repeat(20)}..`)],
    ['JWT headers and payloads decoding to no JSON', fill(`ewok${'a'.repeat(20)}.ewok${'a'.repeat(20)}. `)],
  ])('%s complete, finding nothing', (_name, text) => {
    expect(found(text)).toEqual([]);
  });

  it.each([
    ['a Vault prefix', 'hvs.'],
    ['a PyPI prefix', 'pypi-AgE'],
  ])('%s before a 1 MiB run of its alphabet completes, as one finding', (_name, prefix) => {
    const text = `${prefix}${fill('aB1')}`;
    expect(found(text)).toEqual([['PASSWORD', text]]);
  });

  it('finds two tokens side by side as two findings', () => {
    expect(found(`${SENDGRID},${POSTMAN}`)).toEqual([
      ['PASSWORD', SENDGRID],
      ['PASSWORD', POSTMAN],
    ]);
  });
});

describe('vendor tokens of no type of their own', () => {
  it.each(VENDOR_TOKENS)('preflight blocks a %s token, one finding masked whole', (_name, token) => {
    const text = `export TOKEN=${token} # rotate`;
    expect(found(`Why does this fail? curl -H "X: ${token}" api`)).toEqual([['PASSWORD', token]]);
    const r = preflightOf(text);
    expect(r.decision).toBe('BLOCKED');
    expect(r.masked).not.toContain(token);
  });

  it('reads no prefix in prose, a placeholder or a near shape as a token', () => {
    for (const text of [
      'shpat_ and shpss_your_shared_secret and ATATT3 tokens; glsa_ and glc_ prefixes; sntryu_ and sntrys_ too',
      'dapi is a prefix; dckr_pat_your_token_here; dp.pt.example; lin_api_key; ntn_token; ya29.example.com',
      'fo1_token sbp_xxx gsk_your_key xai-api-key pplx-key HRKU-token sq0atp-token sq0csp-secret',
      `shpat_${'0'.repeat(32)} sbp_${'a'.repeat(40)} gsk_${'x'.repeat(52)} xai-${'X'.repeat(80)}`,
      `shpat_${randomOf(HEX, 31, 21)} sntryu_${randomOf(HEX, 63, 30)} dapi${randomOf(HEX, 31, 31)}`,
      'dapiDataGetTopLongShortPositionRatio (params?: {}): Promise<implicitReturnType>;',
      'GOCSPX-your-client-secret NRAK-YOUR-KEY LTAI-prefixed ids AKID for Tencent r8_token GR1348941 EAA is Meta',
      `GOCSPX-${'x'.repeat(28)} NRAK-${'X'.repeat(27)} LTAI${'x'.repeat(20)} r8_${'0'.repeat(37)} abc8Q~${'x'.repeat(34)}`,
      // A version's "Q~" in prose, an MD5 before a locale, and one hex digit short of a Mailchimp key.
      `release 2Q~3 notes; cache ${randomOf(HEX, 32, 56)}-en-us1 and ${randomOf(HEX, 31, 57)}-us21`,
      `EAAB${'a'.repeat(120)} AKID${randomOf(ALNUM, 31, 58)} NRAK-${randomOf(ALNUM, 27, 59).toLowerCase()}`,
      // Base64 of a binary (a font as a data: URI), where these prefixes start by chance after "+" or "/".
      `src: url(data:font/ttf;base64,AAEAAAAL+EAAC${randomOf(ALNUM, 150, 61)}/LTAI${randomOf(ALNUM, 20, 62)}+AKID${randomOf(ALNUM, 32, 63)}=)`,
    ])
      expect(found(text), text).toEqual([]);
  });
});

describe('a known token with a look-alike letter or another separator in its prefix', () => {
  const body = '8hfqEnMCxKJ9UlB8VGFHKGNZv9nxgrBAbtus';
  it.each([
    ['a Cyrillic р', `gh\u0440_${body}`],
    ['a Greek ρ', `gh\u03C1_${body}`],
    ['"-"', `ghp-${body}`],
    ['"."', `ghp.${body}`],
  ])('finds a GitHub token written with %s, masked whole', (_name, token) => {
    expect(found(`token ${token} leaked`)).toEqual([['GITHUB_TOKEN', token]]);
  });

  it('leaves prose of one script, and a word after a retyped prefix, alone', () => {
    for (const text of [
      'Пароль скрыт; ключ АКІА не найден. Ρ ΑΣ ΣΩ',
      'see ghp-documentation-for-the-project and ghp.example.com',
      `ghp-${'a'.repeat(36)} ghp.${'B'.repeat(36)}`,
    ])
      expect(found(text), text).toEqual([]);
  });
});
