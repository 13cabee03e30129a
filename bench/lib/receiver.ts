// A lean HTTPS receiver for the benchmark, run as its own process so its CPU time can be measured
// apart from the worker's. It answers each request the way the SIEM of its path would (Splunk's
// {"code":0}, Elastic's {"errors":false}, 200/202 elsewhere), gunzips bodies and counts events by
// finding each event's `"preflight_id":"...` (every preset's body carries it once per event).
// In latency mode it also reports (event id, receipt time) pairs to the parent, keyed by the path's
// first segment (the preset, or a destination's own segment such as /healthy3/...). Paths under
// /hang are accepted and never answered.
//
// With --h2 it speaks HTTP/2 to clients that offer it (ALPN) and HTTP/1.1 to the others
// (bench/transportFloor.ts measures what each costs a sender).
//
// Protocol (IPC): parent -> {cmd:'stats'} | {cmd:'reset'} | {cmd:'latency', on:boolean};
// child -> {type:'ready', port} | {type:'stats', counts, requests} | {type:'receipts', items:[preset, id, ms][]}
import { readFileSync } from 'node:fs';
import { createServer, type ServerOptions } from 'node:https';
import { createSecureServer } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

const TLS = new URL('../../test/fixtures/tls/', import.meta.url);
const key = readFileSync(new URL('server-key.pem', TLS));
const cert = readFileSync(new URL('server.pem', TLS));

const counts: Record<string, number> = {};
const requests: Record<string, number> = {};
let latency = false;
let receipts: Array<[string, string, number]> = [];

const MARK = '"preflight_id":"';

function answer(path: string): { status: number; body: string } {
  if (path.startsWith('/splunk')) return { status: 200, body: '{"text":"Success","code":0}' };
  if (path.startsWith('/elastic')) return { status: 200, body: '{"took":1,"errors":false,"items":[]}' };
  if (path.startsWith('/datadog')) return { status: 202, body: '{}' };
  if (path.startsWith('/newrelic')) return { status: 202, body: '{"requestId":"bench"}' };
  return { status: 200, body: '' };
}

// The request and answer as both servers hand them over (HTTP/2's compatibility API has these too).
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const serve = (handler: Handler) =>
  process.argv.includes('--h2')
    ? createSecureServer({ key, cert, allowHTTP1: true }, handler as unknown as Parameters<typeof createSecureServer>[1])
    : createServer({ key, cert, keepAliveTimeout: 65_000 } satisfies ServerOptions, handler);

const server = serve((req, res) => {
  // /hang...: a SIEM that accepts the connection and the request and never answers (noisy scenario).
  if ((req.url ?? '').startsWith('/hang')) {
    req.resume();
    requests.hang = (requests.hang ?? 0) + 1;
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const preset = path.split('/')[1] ?? '';
    let raw = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    const text = raw.toString('utf8');
    let n = 0;
    let at = text.indexOf(MARK);
    while (at !== -1) {
      n++;
      if (latency) {
        const start = at + MARK.length;
        receipts.push([preset, text.slice(start, text.indexOf('"', start)), now]);
      }
      at = text.indexOf(MARK, at + MARK.length);
    }
    counts[preset] = (counts[preset] ?? 0) + n;
    requests[preset] = (requests[preset] ?? 0) + 1;
    const a = answer(path);
    res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) });
    res.end(a.body);
  });
});

setInterval(() => {
  if (receipts.length > 0) {
    process.send!({ type: 'receipts', items: receipts });
    receipts = [];
  }
}, 50).unref();

process.on('message', (m: { cmd: string; on?: boolean }) => {
  if (m.cmd === 'stats') process.send!({ type: 'stats', counts, requests });
  else if (m.cmd === 'reset') {
    for (const k of Object.keys(counts)) delete counts[k];
    for (const k of Object.keys(requests)) delete requests[k];
    receipts = [];
  } else if (m.cmd === 'latency') latency = m.on === true;
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
});
