import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, TEST_CA_PEM, type Receiver, type ReceiverResponse } from '../../test/support/httpsReceiver.js';
import { sampleEvent } from '../siem/testEvents.js';
import { sendRequest, type DeliveryTarget, type SendDeps } from './deliverBatch.js';
import { createOutboundClient, type OutboundClient } from './outbound/client.js';
import { urlSecrets } from './urlSecrets.js';

const SUMO_TOKEN = 'ZaVnC4dhaV3cvL0yQwzp8IkYgMhBBfeBBmXJdZKnWGJvaXR6T2RoaldGJ3ZhbFdTZz09';
const HOOK_TOKEN = 's3cr3t-webhook-token-0123456789';

describe('urlSecrets: the parts of a URL that may be a credential', () => {
  it("finds Sumo Logic's path token, webhook query tokens and path secrets", () => {
    expect(urlSecrets(`https://endpoint1.collection.sumologic.com/receiver/v1/http/${SUMO_TOKEN}`)).toEqual([SUMO_TOKEN]);
    expect(urlSecrets(`https://hooks.example.com/in?token=${HOOK_TOKEN}&format=json`)).toEqual([HOOK_TOKEN]);
    expect(urlSecrets('https://fn.azurewebsites.net/api/ingest?code=aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW==')).toEqual(['aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW==']);
    // The webhook's id (digits alone) is no secret; its token is.
    expect(urlSecrets('https://discord.com/api/webhooks/1234567890123456789/Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz')).toEqual([
      'Xy1_abcDEF2ghiJKL3mnoPQR4stuVWX5yz',
    ]);
  });

  it('reads percent-encoded parts as the secret they spell', () => {
    expect(urlSecrets('https://h.example.com/in?sig=ab%2Bcd%2Fef%3D12345')).toEqual(['ab+cd/ef=12345']);
  });

  it('finds short random secrets, letters-only ones, matrix parameters and values named as credentials', () => {
    expect(urlSecrets('https://hooks.zapier.com/hooks/catch/1234567/ab3cd9e/')).toEqual(['ab3cd9e']);
    expect(urlSecrets('https://hooks.example.com/in/Kq7mZ2xP9vL4tR8')).toEqual(['Kq7mZ2xP9vL4tR8']);
    expect(urlSecrets('https://hooks.example.com/in/QwErTyUiOpAsDfGhJkLzXcVb')).toEqual(['QwErTyUiOpAsDfGhJkLzXcVb']);
    expect(urlSecrets('https://hooks.example.com/in/7f3a9c2e/41b8d6a0')).toEqual(['7f3a9c2e', '41b8d6a0']);
    expect(urlSecrets('https://hooks.example.com/in;token=Ab12Cd34')).toEqual(['Ab12Cd34']);
    expect(urlSecrets('https://hooks.example.com/in?key=Ab1234x&token=abcd')).toEqual(['Ab1234x', 'abcd']);
  });

  it('leaves words, numbers and dates alone: an ingest path and its settings are in every answer about the URL', () => {
    expect(urlSecrets('https://http-intake.logs.datadoghq.com/api/v2/logs?ddsource=aegis')).toEqual([]);
    expect(urlSecrets('https://splunk.example.com:8088/services/collector/event')).toEqual([]);
    expect(urlSecrets('https://x.example/api/logs?api-version=2016-04-01&source=aegis-audit&format=json_lines')).toEqual([]);
    expect(urlSecrets('https://x.example/ProcessIncomingEvents/collector-ingestion-endpoint/1234567')).toEqual([]);
    expect(urlSecrets('not a url')).toEqual([]);
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

  it.each(cases)("a custom webhook's ?token=, %s", async (_name, respond) => {
    answer = respond;
    const out = await sendRequest(deps, target('custom', `/hook?token=${HOOK_TOKEN}`), [sampleEvent(1)]);
    const kept = JSON.stringify([out.error, out.responseSnippet, out.items]);
    expect(out.error).not.toBeNull();
    expect(kept).not.toContain(HOOK_TOKEN.slice(0, 16));
  });
});
