// How every outbound connection is made: one undici Agent configuration (keep-alive, no pipelining,
// per-phase timeouts, the connect-time address guard, the trusted CAs), whatever pool it belongs to.
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { createGuardedLookup, type ResolveAddresses } from './guardedLookup.js';

export interface AgentSettings {
  allowPrivate: boolean;
  timeoutMs: number;
  ca?: string | string[] | undefined;
  resolveAddresses?: ResolveAddresses | undefined;
  /** DNS servers to ask instead of resolv.conf's (tests; see guardedLookup.ts). */
  dnsServers?: string[] | undefined;
}

/** Makes Agents of the given connections per origin, all configured alike. */
export type NewAgent = (connections: number) => Agent;

function buildCa(extra: string | string[] | undefined): string[] | undefined {
  if (extra === undefined) return undefined; // Node's defaults, which already include NODE_EXTRA_CA_CERTS
  const list = Array.isArray(extra) ? extra : [extra];
  if (list.length === 0) return undefined;
  // Passing `ca` replaces Node's store, so rebuild it: bundled roots + NODE_EXTRA_CA_CERTS + ours.
  const fromEnv: string[] = [];
  const envPath = process.env['NODE_EXTRA_CA_CERTS'];
  if (envPath) {
    try {
      fromEnv.push(readFileSync(envPath, 'utf8'));
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up.
    }
  }
  return [...rootCertificates, ...fromEnv, ...list];
}

/** The last trust list made into a context, and that context (a process uses one list, rarely two). */
let lastContext: { ca: string[]; context: SecureContext } | null = null;

/**
 * One context for every connection: given `ca` instead, each TLS connection parses the whole list
 * again (about 150 PEM roots, tens of milliseconds of CPU per connection). Shared by the clients
 * made with the same list, since building one costs as much.
 */
function trustContext(ca: string[]): SecureContext {
  const same = lastContext !== null && lastContext.ca.length === ca.length && lastContext.ca.every((pem, i) => pem === ca[i]);
  if (!same) lastContext = { ca, context: createSecureContext({ ca }) };
  return lastContext!.context;
}

/** Node's default trust (bundled roots and NODE_EXTRA_CA_CERTS) as one context: ~0.2 ms per connection otherwise. */
let defaultContext: SecureContext | null = null;

export function agentFactory(settings: AgentSettings): NewAgent {
  const { allowPrivate, timeoutMs } = settings;
  const ca = buildCa(settings.ca);
  const secureContext = ca ? trustContext(ca) : (defaultContext ??= createSecureContext({}));
  // c-ares, bounded by the connect timeout (guardedLookup.ts): one tenant's unanswering DNS server
  // holds up no other tenant's connections.
  const lookup = createGuardedLookup(allowPrivate, settings.resolveAddresses, { timeoutMs, servers: settings.dnsServers });
  return (connections) =>
    new Agent({
      connections,
      pipelining: 1,
      // Idle sockets are kept briefly (or as long as the server's Keep-Alive hint allows, minus a margin),
      // so we rarely POST onto a socket the SIEM is just closing.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // The connector (and its cache of TLS sessions) built once per Agent, not by undici from options:
      // an Agent drops an origin's pool when its last connection closes, and a pool built from options
      // starts with an empty session cache. A SIEM whose every connection ends (a silent one, on each
      // timeout; one that closes after each answer) then cost a full handshake per request, the
      // certificate chain parsed and verified each time, instead of a resumed session. Per Agent: a
      // destination's own pool (pools.ts) resumes only sessions it opened; the shared pool (token
      // requests, and requests beyond the cap of busy pools) shares one cache among its users. A
      // session names the server only (no client certificate is ever sent), so a shared one tells the
      // server nothing about which tenant sends.
      connect: buildConnector({
        timeout: timeoutMs,
        rejectUnauthorized: true,
        lookup,
        secureContext,
      }),
    });
}
