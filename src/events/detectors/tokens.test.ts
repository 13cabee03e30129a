import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../mask.js';
import { MiB, fill, found, typesIn } from '../../../test/support/detection.js';

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
  ])('%s complete, finding nothing', (_name, text) => {
    expect(found(text)).toEqual([]);
  });

  it('a 1 MiB run of cookie characters completes, as one finding', () => {
    const text = `d=${fill('=xoxd-1')}`;
    expect(found(text)).toEqual([['SLACK_TOKEN', text.slice(3)]]);
    expect(text.length).toBe(MiB + 2);
  });
});
