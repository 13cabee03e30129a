// Run in a child process with NODE_EXTRA_CA_CERTS set (it is read only at process start):
// sends one request to argv[2] with and without an extra `ca` option and prints the outcomes as JSON.
import { UNTRUSTED_CERT_PEM } from '../../../../test/support/httpsReceiver.js';
import { createOutboundClient } from '../client.js';

const url = process.argv[2] ?? '';
const outcomes: Record<string, string> = {};
for (const [name, ca] of [
  ['envOnly', undefined],
  ['envPlusExtra', UNTRUSTED_CERT_PEM],
] as const) {
  const client = createOutboundClient({ allowPrivate: true, timeoutMs: 5_000, userAgent: 'probe', ...(ca ? { ca } : {}) });
  const result = await client.send({ url, headers: {}, body: '{}' });
  outcomes[name] = result.kind === 'response' ? String(result.status) : result.failure;
  await client.close();
}
process.stdout.write(JSON.stringify(outcomes));
