// Each preset's request against the SIEM vendor's own client library: the same events go once
// through the vendor's official Node client and once through our encoder and outbound client, to
// the same local HTTPS receiver, and what the receiver got must be the same bytes (decompressed
// body, method, path and query, and the headers the SIEM reads). No database: only the receiver.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent as HttpsAgent } from 'node:https';
import { Client as ElasticClient } from '@elastic/elasticsearch';
import { client as datadogClient, v2 as datadogV2 } from '@datadog/datadog-api-client';
import crossFetch from 'cross-fetch';
import { LogsIngestionClient } from '@azure/monitor-ingestion';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import {
  startReceiver,
  TEST_CA_PEM,
  type Receiver,
  type ReceivedRequest,
  type ReceiverHandler,
  type ReceiverResponse,
} from '../../test/support/httpsReceiver.js';
import { createOutboundClient, type OutboundClient } from '../delivery/outbound/client.js';
import { getEncoder } from './registry.js';
import { hecTime } from './splunk-hec/encoder.js';
import { ELASTIC_FILTER_PATH } from './elastic/encoder.js';
import { epochMillis } from './types.js';
import type { SiemId } from './catalog.js';
import type { EncodeContext } from './types.js';
import type { OutputFormat } from './outputFormat.js';
import { sampleEvent, type SampleEvent } from './testEvents.js';
import { toOcsf } from '../events/ocsf.js';
import { formatTimestamp, type WireEvent } from '../events/contract.js';
import { SPLUNK_DEFAULT_SOURCE, SPLUNK_DEFAULT_SOURCETYPE } from './splunk-hec/form.js';

// The two loggers below ship no type declarations: what this file uses of each.
interface SplunkLoggerInstance {
  requestOptions: Record<string, unknown>;
  eventFormatter: (message: unknown, severity: string) => unknown;
  error: (err: unknown) => void;
  send(context: { message: unknown; metadata: Record<string, unknown> }, callback?: (err: unknown) => void): void;
}
const require = createRequire(import.meta.url);

/**
 * Runs `script` (CommonJS) in a child Node process trusting the test CA through NODE_EXTRA_CA_CERTS,
 * for vendor libraries that take no CA option (Node reads that variable only at start-up).
 */
function runWithTestCa(script: string, input: unknown): Promise<void> {
  const caFile = fileURLToPath(new URL('../../test/fixtures/tls/ca.pem', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, VENDOR_INPUT: JSON.stringify(input) }, timeout: 60_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
    );
  });
}
const SplunkLogger = require('splunk-logging') as { Logger: new (config: Record<string, unknown>) => SplunkLoggerInstance };

// Three events: the sample summary carries quotes, a backslash, a newline, é and an emoji, so any
// difference in JSON escaping between the vendor's serialiser and ours shows in the bytes.
const events = [sampleEvent(1), sampleEvent(2), sampleEvent(3)];
const HOSTNAME = 'aegis-test-host';

/** Answers each vendor's path with what its client reads as success. */
const handler: ReceiverHandler = (req): ReceiverResponse => {
  if (req.path.startsWith('/_bulk')) {
    // The Elasticsearch client refuses an answer without its product header.
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' },
      body: JSON.stringify({ took: 1, errors: false, items: [] }),
    };
  }
  // The Logs Ingestion API answers 204 No Content.
  if (req.path.startsWith('/dataCollectionRules/')) return { status: 204 };
  return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"text":"Success","code":0}' };
};

let receiver: Receiver;
let outbound: OutboundClient;

beforeAll(async () => {
  receiver = await startReceiver(handler);
  outbound = createOutboundClient({ allowPrivate: true, timeoutMs: 30_000, userAgent: 'aegis-audit-stream/test', ca: TEST_CA_PEM });
});
afterAll(async () => {
  await outbound?.close();
  await receiver?.close();
});

/** Runs `send` and returns the one request the receiver got meanwhile. */
async function captured(send: () => Promise<unknown>): Promise<ReceivedRequest> {
  const before = receiver.requests.length;
  await send();
  await receiver.waitFor((rs) => rs.length > before, 30_000);
  expect(receiver.requests.length).toBe(before + 1);
  return receiver.requests[before]!;
}

/** Our request for `siem`: the encoder's body and headers, sent by the delivery's outbound client (as deliverBatch does). */
function ours(
  siem: SiemId,
  path: string,
  options: Record<string, unknown>,
  auth: Record<string, string>,
  format?: OutputFormat,
  sent: readonly SampleEvent[] = events,
): Promise<ReceivedRequest> {
  const encoder = getEncoder(siem);
  const ctx: EncodeContext = { hostname: HOSTNAME, options, userAgent: 'aegis-audit-stream/test', ...(format ? { format } : {}) };
  const encoded = encoder.encode([...sent], ctx);
  const headers = { ...encoded.headers, 'content-type': encoded.contentType, ...auth };
  return captured(async () => {
    // The URL as deliverBatch sends it: the preset adds its query (Elastic's filter_path).
    const url = `${receiver.url}${path}`;
    const result = await outbound.send({ url: encoder.requestUrl ? encoder.requestUrl(url) : url, headers, body: encoded.body, gzip: encoder.gzip });
    expect(result.kind).toBe('response');
  });
}

/** RFC 3986 6.2.2.2: percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") decoded. */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m;
  });
}

function header(req: ReceivedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

describe('Elastic: @elastic/elasticsearch bulk with create actions', () => {
  it('sends the same method, path and NDJSON body', async () => {
    const client = new ElasticClient({ node: receiver.url, auth: { apiKey: 'test-api-key' }, tls: { ca: TEST_CA_PEM }, compression: true });
    try {
      // Aegis asks for only what it reads of the answer (filter_path, as Elastic's Beats do): the
      // client is given the same, so path and query compare byte for byte.
      const vendor = await captured(() =>
        client.bulk({
          filter_path: ELASTIC_FILTER_PATH,
          operations: events.flatMap((e) => [{ create: { _index: `logs-${e.event.dataset}-default`, _id: e.event.id } }, e]),
        }),
      );
      const mine = await ours('elastic', '/_bulk', {}, { authorization: 'ApiKey test-api-key' });
      expect(mine.method).toBe(vendor.method);
      expect(mine.path).toBe(vendor.path);
      expect(mine.path).toBe('/_bulk?filter_path=errors%2Citems.*._id%2Citems.*.status%2Citems.*.error.type%2Citems.*.error.reason');
      expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
      expect(header(mine, 'authorization')).toBe(header(vendor, 'authorization'));
      expect(header(mine, 'content-encoding')).toBe(header(vendor, 'content-encoding'));
      // The client sends its versioned media type (application/vnd.elasticsearch+x-ndjson;
      // compatible-with=N), which ties a request to one major version; we send the plain
      // application/x-ndjson that every Elasticsearch version (and Elastic Cloud's proxies) reads
      // as the same format. Both are NDJSON: the difference is deliberate.
      expect(header(vendor, 'content-type')).toMatch(/^application\/vnd\.elasticsearch\+x-ndjson; compatible-with=\d+$/);
      expect(header(mine, 'content-type')).toBe('application/x-ndjson');
    } finally {
      await client.close();
    }
  });
});

/** The OCSF object of a sample event, as a vendor client's user would build it (events/ocsf.ts). */
const ocsfOf = (e: (typeof events)[number]) => toOcsf(e as unknown as WireEvent) as unknown as Record<string, unknown>;

describe('Elastic OCSF: @elastic/elasticsearch bulk of @timestamp plus the OCSF object', () => {
  it('sends the same NDJSON body: each document is {"@timestamp", ...the OCSF object}', async () => {
    const client = new ElasticClient({ node: receiver.url, auth: { apiKey: 'test-api-key' }, tls: { ca: TEST_CA_PEM }, compression: true });
    try {
      const vendor = await captured(() =>
        client.bulk({
          filter_path: ELASTIC_FILTER_PATH,
          operations: events.flatMap((e) => [
            { create: { _index: `logs-${e.event.dataset}.ocsf-default`, _id: e.event.id } },
            { '@timestamp': e['@timestamp'], ...ocsfOf(e) },
          ]),
        }),
      );
      const mine = await ours('elastic', '/_bulk', {}, { authorization: 'ApiKey test-api-key' }, 'ocsf');
      expect(mine.path).toBe(vendor.path);
      expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
    } finally {
      await client.close();
    }
  });
});

/** The SDK's LogsApi against the receiver, and the agent to destroy once it has sent. */
function datadogLogsApi(): { api: datadogV2.LogsApi; agent: HttpsAgent } {
  const agent = new HttpsAgent({ ca: TEST_CA_PEM });
  const configuration = datadogClient.createConfiguration({
    authMethods: { apiKeyAuth: 'test-api-key' },
    baseServer: new datadogClient.BaseServerConfiguration(receiver.url, {}),
    // The SDK's own fetch (cross-fetch, node-fetch in Node), given an agent that trusts the test CA:
    // the `fetch` parameter is the SDK's hook for exactly this.
    fetch: (url: string, init: Record<string, unknown>) => crossFetch(url, { ...init, agent } as RequestInit),
  });
  return { api: new datadogV2.LogsApi(configuration), agent };
}

describe('Datadog: @datadog/datadog-api-client v2 LogsApi.submitLog', () => {
  it('sends the same method, path, encoding and JSON array body: reserved attributes, timestamp, then the ECS event', async () => {
    const { api, agent } = datadogLogsApi();
    // The samples, and one sent five hours after it happened (a backlog, a replay): Datadog must file it
    // at its own time, not at arrival.
    const late = sampleEvent(4, { timestamp: formatTimestamp(new Date(Date.now() - 5 * 3_600_000)) });
    const sent = [...events, late];
    // The same attributes our encoder adds (its defaults for source and service, the host name, the
    // tags it derives), so the item is what a Datadog user of the SDK would send for this event, and
    // timestamp (epoch ms): Datadog dates a log only by its date attributes, and @timestamp is not one.
    const vendor = await captured(() =>
      api.submitLog({
        contentEncoding: 'gzip',
        body: sent.map((e) => ({
          ddsource: 'aegis',
          ddtags: `org_id:${e.organization.id},dataset:${e.event.dataset}`,
          hostname: HOSTNAME,
          message: e.aegis.summary,
          service: 'aegis-audit-stream',
          additionalProperties: { timestamp: Date.parse(e['@timestamp']), ...e },
        })),
      }),
    );
    agent.destroy();
    const mine = await ours('datadog', '/api/v2/logs', {}, { 'dd-api-key': 'test-api-key' }, undefined, sent);
    const items = JSON.parse(mine.body.toString('utf8')) as Array<Record<string, unknown>>;
    expect(items.at(-1)!.timestamp).toBe(Date.parse(late['@timestamp']));
    expect(Date.now() - (items.at(-1)!.timestamp as number)).toBeGreaterThan(4 * 3_600_000);
    expect(mine.method).toBe(vendor.method);
    expect(mine.path).toBe(vendor.path);
    expect(header(mine, 'content-encoding')).toBe(header(vendor, 'content-encoding'));
    expect(header(mine, 'content-type')).toBe(header(vendor, 'content-type'));
    expect(header(mine, 'dd-api-key')).toBe(header(vendor, 'dd-api-key'));
    expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
  });
});

describe('Datadog OCSF: @datadog/datadog-api-client v2 LogsApi.submitLog', () => {
  it('sends the same JSON array: reserved attributes, status and timestamp, then the OCSF object', async () => {
    const { api, agent } = datadogLogsApi();
    // A Datadog user sending OCSF sets the reserved attributes Datadog reads: message, status (the log
    // level: the samples are severity_id 2 Low, a notice) and timestamp (epoch ms), which replace the
    // OCSF object's own message and status caption.
    const vendor = await captured(() =>
      api.submitLog({
        contentEncoding: 'gzip',
        body: events.map((e) => {
          const { message: _message, status: _status, ...rest } = ocsfOf(e);
          expect(rest.severity_id).toBe(2);
          return {
            ddsource: 'aegis',
            ddtags: `org_id:${e.organization.id},dataset:${e.event.dataset},format:ocsf`,
            hostname: HOSTNAME,
            message: e.aegis.summary,
            service: 'aegis-audit-stream',
            additionalProperties: { status: 'notice', timestamp: epochMillis(e['@timestamp']), ...rest },
          };
        }),
      }),
    );
    agent.destroy();
    const mine = await ours('datadog', '/api/v2/logs', {}, { 'dd-api-key': 'test-api-key' }, 'ocsf');
    expect(mine.path).toBe(vendor.path);
    expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
  });
});

describe('Microsoft Sentinel: @azure/monitor-ingestion LogsIngestionClient.upload', () => {
  it('sends the same method, path and query, headers and gzipped JSON array', async () => {
    // The SDK's credential interface: an object handing out a token. Fetching a real one is the
    // delivery's OAuth2 layer's job, tested on its own (test/integration/delivery/oauth2.test.ts).
    const credential: TokenCredential = {
      getToken: (): Promise<AccessToken> => Promise.resolve({ token: 'test-access-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const agent = new HttpsAgent({ ca: TEST_CA_PEM });
    const client = new LogsIngestionClient(receiver.url, credential, { agent, retryOptions: { maxRetries: 0 } });
    const rule = 'dcr-00000000000000000000000000000000';
    const stream = 'Custom-AegisAudit_CL';
    // The records the docs describe (docs/siem/microsoft_sentinel.md): TimeGenerated, then the
    // event's other top-level fields as dynamic columns.
    const records = events.map((e) => ({ TimeGenerated: e['@timestamp'], event: e.event, aegis: e.aegis, organization: e.organization }));
    const vendor = await captured(() => client.upload(rule, stream, records));
    agent.destroy();
    const mine = await ours(
      'microsoft_sentinel',
      `/dataCollectionRules/${rule}/streams/${stream}?api-version=2023-01-01`,
      {},
      {
        authorization: 'Bearer test-access-token',
      },
    );
    expect(mine.method).toBe(vendor.method);
    // Normalisation: the SDK percent-encodes the query's "-" ("api%2Dversion"); "-" is an unreserved
    // character, so RFC 3986 (6.2.2.2) makes both spellings the same URL, and Azure reads them alike.
    // Aegis sends the URL as the user pasted it from the docs (api-version).
    expect(mine.path).toBe(decodeUnreserved(vendor.path));
    for (const name of ['authorization', 'content-type', 'content-encoding']) expect(header(mine, name), name).toBe(header(vendor, name));
    // Both send a fresh GUID per request.
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(header(vendor, 'x-ms-client-request-id')).toMatch(guid);
    expect(header(mine, 'x-ms-client-request-id')).toMatch(guid);
    expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
  });
});

describe('Splunk HEC: splunk-logging Logger.send', () => {
  it('sends the same method, path, auth and event envelopes', async () => {
    const defaults = { source: SPLUNK_DEFAULT_SOURCE, sourcetype: SPLUNK_DEFAULT_SOURCETYPE };
    // Our encoder's path and envelope metadata (host, source, sourcetype); the three events are
    // flushed as one request (maxBatchCount 3).
    const logger = new SplunkLogger.Logger({ token: 'test-token', url: `${receiver.url}/services/collector/event`, maxBatchCount: 3 });
    logger.requestOptions = { ...logger.requestOptions, strictSSL: true, ca: TEST_CA_PEM };
    // The event is the wire event itself, not the logger's default {message, severity} wrapper.
    logger.eventFormatter = (message) => message;
    let failure: unknown;
    logger.error = (err) => {
      failure = err;
    };
    const vendor = await captured(
      () =>
        new Promise<void>((resolve, reject) => {
          for (const e of events) {
            logger.send(
              { message: e, metadata: { time: hecTime(e['@timestamp']), host: HOSTNAME, source: defaults.source, sourcetype: defaults.sourcetype } },
              (err) => (err || failure ? reject(new Error(`splunk-logging: ${String(err ?? failure)}`)) : resolve()),
            );
          }
        }),
    );
    const mine = await ours('splunk_hec', '/services/collector/event', {}, { authorization: 'Splunk test-token' });
    expect(mine.method).toBe(vendor.method);
    expect(mine.path).toBe(vendor.path);
    expect(header(mine, 'authorization')).toBe(header(vendor, 'authorization'));
    // Named normalisations, each a choice of the logger that HEC reads the same either way:
    // - time: the logger writes it as a string ("1778841181.456"); we write the number HEC's docs show.
    // - separator: the logger concatenates envelopes with nothing between them; we put a newline
    //   between them (HEC reads a whitespace-separated stream of JSON objects, and a newline keeps
    //   a captured body readable line by line).
    // The rest is not normalised: the logger sends no Content-Encoding (we gzip; the receiver
    // compares decompressed bodies) and Content-Type application/x-www-form-urlencoded (its own
    // workaround; HEC ignores it, we send application/json).
    const vendorBody = vendor.body.toString('utf8').replace(/"time":"(\d+(?:\.\d+)?)"/g, (_m, t: string) => `"time":${JSON.stringify(Number(t))}`);
    const mineBody = mine.body.toString('utf8').replaceAll('}\n{"time":', '}{"time":');
    expect(mineBody).toBe(vendorBody);
    expect(header(vendor, 'content-type')).toBe('application/x-www-form-urlencoded');
    expect(header(mine, 'content-type')).toBe('application/json');
  });
});

describe('Sumo Logic: sumo-logger (raw mode)', () => {
  it('sends the same method, path, X-Sumo headers and JSON lines', async () => {
    const options = { category: 'security/aegis', sourceName: 'aegis-audit-stream', sourceHost: HOSTNAME };
    // Raw mode sends each message as it is, one per line: the logger's default mode wraps a message
    // in its own {sessionId, timestamp, url} fields, which an audit event has no use for. The logger
    // (superagent, without pooling) has no CA option: it runs in a child process (runWithTestCa).
    const vendor = await captured(() =>
      runWithTestCa(
        `const SumoLogger = require('sumo-logger');
         const input = JSON.parse(process.env.VENDOR_INPUT);
         const logger = new SumoLogger({ endpoint: input.endpoint, raw: true, returnPromise: true,
           sourceCategory: input.options.category, sourceName: input.options.sourceName, hostName: input.options.sourceHost });
         Promise.resolve(logger.log(input.lines)).catch((e) => { console.error(e); process.exit(1); });`,
        { endpoint: `${receiver.url}/receiver/v1/http/test-source-token`, options, lines: events.map((e) => JSON.stringify(e)) },
      ),
    );
    const mine = await ours('sumo_logic', '/receiver/v1/http/test-source-token', options, {});
    expect(mine.method).toBe(vendor.method);
    expect(mine.path).toBe(vendor.path);
    for (const name of ['content-type', 'x-sumo-category', 'x-sumo-name', 'x-sumo-host']) expect(header(mine, name), name).toBe(header(vendor, name));
    // Named normalisation: the logger joins lines with "\n" and no final newline; we end every line,
    // the last one too (NDJSON). Sumo Logic splits messages on newlines either way.
    expect(mine.body.toString('utf8')).toBe(`${vendor.body.toString('utf8')}\n`);
  });
});

describe('New Relic: @newrelic/telemetry-sdk LogClient.send', () => {
  it('sends the same method, path, encoding and JSON body', async () => {
    // The SDK makes its own agent, with no CA option: it runs in a child process (runWithTestCa).
    // Common attributes and each log's message and timestamp as our encoder sets them.
    const vendor = await captured(() =>
      runWithTestCa(
        `const { LogClient, LogBatch, Log } = require('@newrelic/telemetry-sdk').telemetry.logs;
         const input = JSON.parse(process.env.VENDOR_INPUT);
         const client = new LogClient({ apiKey: 'test-license-key', host: '127.0.0.1', port: input.port });
         const batch = new LogBatch(input.logs.map((l) => new Log(l.message, l.timestamp, l.attributes)), input.common);
         client.send(batch, (err) => { if (err) { console.error(err); process.exit(1); } process.exit(0); });`,
        {
          port: receiver.port,
          common: { service: 'aegis-audit-stream', logtype: 'aegis.audit' },
          logs: events.map((e) => ({ message: e.aegis.summary, timestamp: epochMillis(e['@timestamp']), attributes: e })),
        },
      ),
    );
    const mine = await ours('new_relic', '/log/v1', {}, { 'api-key': 'test-license-key' });
    expect(mine.method).toBe(vendor.method);
    expect(mine.path).toBe(vendor.path);
    for (const name of ['api-key', 'content-type', 'content-encoding']) expect(header(mine, name), name).toBe(header(vendor, name));
    expect(mine.body.toString('utf8')).toBe(vendor.body.toString('utf8'));
  });
});
