#!/usr/bin/env node
// A stand-in SIEM for trying Aegis locally: prints every request it receives. Plain HTTP on loopback,
// so the service must run with AEGIS_ALLOW_PRIVATE_DESTINATIONS=1 (development only).
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

// Not PORT: that is the service's own variable, and one exported for it would put both on one port.
const port = Number(process.env.SINK_PORT ?? 9999);
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const shown = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, /authorization|api-key|token/i.test(k) ? '[present]' : v]));
    console.log(`\n${new Date().toISOString()} ${req.method} ${req.url}`);
    console.log(JSON.stringify(shown));
    console.log(body.toString('utf8'));
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
}).listen(port, '127.0.0.1', () => console.log(`dev sink listening on http://127.0.0.1:${port}/ingest`));
