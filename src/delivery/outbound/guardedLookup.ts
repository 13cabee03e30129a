// The connect-time address guard. Every new outbound connection resolves DNS through this lookup,
// which fails the connection when ANY resolved address is forbidden, so DNS rebinding cannot slip
// through between a check and the connect.
//
// Names are resolved with c-ares (dns.Resolver), not dns.lookup: getaddrinfo runs on libuv's thread
// pool, of which only half (2 of the default 4 threads) may run lookups at once, and a lookup cannot
// be cancelled. A tenant whose destination names sit under a DNS server that never answers would hold
// those threads (about 10 s a lookup, on every retry) and every other tenant's new connections in the
// worker would wait behind them and time out. c-ares asks the servers of resolv.conf itself, off the
// thread pool, within a time of its own. What it does not do that getaddrinfo does (/etc/hosts,
// nsswitch, search domains) is asked of the system resolver only for `localhost` and, when private
// destinations are allowed (development), for names DNS says do not exist; never on a DNS timeout.
import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { isForbiddenAddress } from './addresses.js';
import { isLocalhostName } from './url.js';
import { within } from '../../within.js';
import { monotonicNow } from '../../monotonicClock.js';

export const FORBIDDEN_ERROR_CODE = 'EAEGISFORBIDDEN';

/**
 * Resolves a host name to its addresses: of the family asked for (4 or 6), or of both (0 or none).
 * The guard filters by family itself, so a resolver may ignore `family`.
 */
export type ResolveAddresses = (hostname: string, family?: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface GuardedLookupOptions {
  /** The connect timeout (AEGIS_HTTP_TIMEOUT_MS): a DNS answer is waited for at most 80% of it. */
  timeoutMs: number;
  /** DNS servers to ask instead of resolv.conf's (tests). */
  servers?: string[] | undefined;
  /** The system resolver (getaddrinfo: /etc/hosts, nsswitch, search domains), replaceable in tests. */
  systemLookup?: ResolveAddresses | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Share of the connect timeout a DNS answer may take: its failure then reads as DNS, not as a connect timeout. */
const DNS_SHARE = 0.8;
/**
 * Tries per server. Each lookup has a fresh resolver, whose tries wait a third of the budget, then two
 * thirds: the second try is the last that can be answered before the deadline cancels the query.
 * With several servers, the first is asked alone, once, for the first third (see `phased`).
 */
const TRIES = 2;
/**
 * How long a first DNS server that did not answer, while another answered at once, is asked last. A
 * fresh resolver knows nothing of the servers (a shared one learned which failed), so without this
 * every lookup would ask a dead first nameserver of resolv.conf first (a down resolver on one network
 * of a multi-homed host) and wait a third of its budget before the next: 3 s on every new connection.
 */
const SILENT_SERVER_MS = 60_000;

/**
 * A connection refused for the address its name resolved to. The message, which reaches the tenant
 * (the test probe's answer, last_error), names neither the address nor its kind: a tenant could
 * otherwise use a destination's test probe to map the internal DNS one name at a time (at what
 * private address each name is). Whether a name exists still shows (a refused address against "DNS
 * lookup failed"): saying the same for both would leave every user with a typo in a host name
 * without the one hint that helps. The address and its reason stay on the error, for the server.
 */
class ForbiddenAddressError extends Error {
  readonly code = FORBIDDEN_ERROR_CODE;
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${hostname} resolves to an address refused for outbound delivery`);
    this.name = 'ForbiddenAddressError';
  }
}

function dnsError(hostname: string, code: string, detail?: string): Error {
  const message = detail ? `DNS lookup of ${hostname} failed: ${code} (${detail})` : `getaddrinfo ${code} ${hostname}`;
  return Object.assign(new Error(message), { code, hostname });
}

const systemResolve: ResolveAddresses = (hostname, family = 0) => dnsPromises.lookup(hostname, { all: true, family });

/** c-ares codes that mean the name has no address (NXDOMAIN, or no record of the type asked). */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'EBADNAME']);

interface Answer {
  addresses: LookupAddress[];
  /** Set when no address came back: ENOTFOUND (no such name or record) or EAI_AGAIN (DNS failed: timeout, SERVFAIL, refused, ...). */
  failure?: { code: 'ENOTFOUND' | 'EAI_AGAIN'; detail: string; timedOut?: true };
}

/**
 * Resolution through c-ares: the A and/or AAAA records of a name, one query per name and family in
 * flight at a time (concurrent connections to one host share it), each bounded by the DNS share of
 * the connect timeout. Errors carry getaddrinfo's codes (ENOTFOUND, EAI_AGAIN), which the failure
 * classifier reports as DNS failures.
 *
 * A resolver per lookup, not one for all: cancelling a resolver cancels every query it has, so only
 * a lookup's own can be cancelled at its deadline, and a silent server is then asked no more. A shared
 * resolver also sets its tries' timeouts from the latency of its earlier answers, not from ours. A
 * new resolver reads /etc/resolv.conf, so a change there applies to the next new connection. Lookups
 * happen only when a connection is opened, so the cost of one is small against a TLS handshake.
 */
function caresResolve(options: GuardedLookupOptions): (hostname: string, family: 0 | 4 | 6) => Promise<Answer> {
  const budgetMs = Math.max(50, Math.floor(options.timeoutMs * DNS_SHARE));
  const firstTryMs = Math.max(25, Math.floor(budgetMs / 3));

  const inFlight = new Map<string, Promise<Answer>>();
  /** Servers that did not answer a lookup's first try, and when: asked after the others for a while. */
  const silentSince = new Map<string, number>();

  /** The servers to ask, those silent of late last (each in its own order, as resolv.conf has them). */
  function serverOrder(servers: readonly string[]): string[] {
    const now = monotonicNow();
    for (const [server, since] of silentSince) if (now - since >= SILENT_SERVER_MS) silentSince.delete(server);
    return [...servers.filter((s) => !silentSince.has(s)), ...servers.filter((s) => silentSince.has(s))];
  }

  async function records(resolver: dnsPromises.Resolver, hostname: string, family: 4 | 6): Promise<Answer> {
    try {
      const found = family === 4 ? await resolver.resolve4(hostname) : await resolver.resolve6(hostname);
      return { addresses: found.map((address) => ({ address, family })) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code === 'ETIMEOUT') return { addresses: [], failure: { code: 'EAI_AGAIN', detail: code, timedOut: true } };
      return { addresses: [], failure: { code: NO_SUCH_NAME.has(code) ? 'ENOTFOUND' : 'EAI_AGAIN', detail: code } };
    }
  }

  /** `ms` bounds the caller's wait whatever c-ares does (several servers, each tried in turn). */
  function bounded(resolver: dnsPromises.Resolver, hostname: string, family: 4 | 6, ms: number): Promise<Answer> {
    return within(records(resolver, hostname, family), ms, () => ({
      addresses: [],
      failure: { code: 'EAI_AGAIN', detail: `no answer within ${ms} ms`, timedOut: true },
    }));
  }

  /** Both families' answers as one: their addresses, or the failure that says most. */
  function merged(v4: Answer, v6: Answer): Answer {
    const addresses = [...v4.addresses, ...v6.addresses];
    if (addresses.length > 0) return { addresses };
    // No address: a DNS failure of either family outranks "no such name" (it may have had some).
    const failure = v4.failure?.code === 'EAI_AGAIN' ? v4.failure : v6.failure?.code === 'EAI_AGAIN' ? v6.failure : v4.failure;
    return { addresses, failure: failure ?? { code: 'ENOTFOUND', detail: 'ENODATA' } };
  }

  /** Asks `servers` (c-ares goes on to the next on a timeout or a server failure) within `ms`. */
  async function ask(servers: string[], hostname: string, family: 4 | 6, ms: number, tries: number): Promise<Answer> {
    const resolver = new dnsPromises.Resolver({ timeout: Math.max(25, Math.floor(tries === 1 ? ms : ms / 3)), tries });
    if (servers.length > 0) resolver.setServers(servers);
    try {
      return await bounded(resolver, hostname, family, ms);
    } finally {
      // A query still running (given up at the deadline) ends here; its ECANCELLED is caught in records.
      resolver.cancel();
    }
  }

  /**
   * One family's records: the first server alone for the first third of the budget, then the others
   * for the rest. The first is asked last for a while only when it gave no answer in its time and
   * another server gave an address within its first try: a name slow everywhere (a tenant's slow
   * authoritative servers) says nothing against the first server, which must not then lose its place
   * for every tenant's names (an internal resolver before a public one, the public one answering
   * NXDOMAIN for internal names). Per family, so a server that drops AAAA queries is passed for AAAA.
   */
  async function phased(servers: string[], hostname: string, family: 4 | 6): Promise<Answer> {
    if (servers.length < 2) return ask(servers, hostname, family, budgetMs, TRIES);
    const started = monotonicNow();
    const first = await ask(servers.slice(0, 1), hostname, family, firstTryMs, 1);
    if (!first.failure) return first;
    // NXDOMAIN is final, as c-ares takes it, but for the servers moved last a while, not yet asked:
    // one of them may be the internal resolver that knows the name, moved by a tenant whose DNS
    // answered the others only. It gets its say, and its place back if it knows the name. (Not on
    // ENODATA: the name exists, without records of this family.)
    const demoted = servers.slice(1).filter((s) => silentSince.has(s));
    const noSuchName = first.failure.detail === 'ENOTFOUND';
    if (first.failure.code === 'ENOTFOUND' && !(noSuchName && demoted.length > 0)) return first;
    const askedOthers = monotonicNow();
    const left = Math.max(50, budgetMs - (askedOthers - started));
    const rest = await ask(noSuchName ? demoted : servers.slice(1), hostname, family, left, TRIES);
    if (noSuchName) {
      if (rest.addresses.length === 0) return first;
      for (const server of demoted) silentSince.delete(server);
      return rest;
    }
    if (first.failure.timedOut && rest.addresses.length > 0 && monotonicNow() - askedOthers < firstTryMs) silentSince.set(servers[0]!, monotonicNow());
    return rest;
  }

  async function resolveName(hostname: string, family: 0 | 4 | 6): Promise<Answer> {
    const servers = serverOrder(options.servers ?? new dnsPromises.Resolver().getServers());
    if (family !== 0) return phased(servers, hostname, family);
    const [v4, v6] = await Promise.all([phased(servers, hostname, 4), phased(servers, hostname, 6)]);
    return merged(v4, v6);
  }

  return (hostname, family) => {
    const key = `${family} ${hostname.toLowerCase()}`;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = resolveName(hostname, family).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}

/** A localhost name (url.ts's rule), spelled as a URL may: any case, trailing dots. */
const isLocalhost = (hostname: string): boolean => isLocalhostName(hostname.toLowerCase().replace(/\.+$/, ''));

/**
 * How the guard resolves names by default: c-ares; the system resolver for `localhost` (its address
 * is in /etc/hosts, not DNS) and, with private destinations allowed, for names DNS does not know
 * (/etc/hosts entries, search domains). Never the system resolver on a DNS failure or timeout: that
 * is the lookup that would hold a thread-pool thread.
 */
export function createResolveAddresses(allowPrivate: boolean, options: GuardedLookupOptions): ResolveAddresses {
  const cares = caresResolve(options);
  const system = options.systemLookup ?? systemResolve;
  return async (hostname, family = 0) => {
    if (isLocalhost(hostname)) return system(hostname, family);
    const answer = await cares(hostname, family);
    if (!answer.failure) return answer.addresses;
    if (answer.failure.code === 'ENOTFOUND' && allowPrivate) return system(hostname, family);
    throw dnsError(hostname, answer.failure.code, answer.failure.detail);
  };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A net/tls `lookup` that refuses the connection if any resolved address is forbidden. `resolve`
 * replaces the resolution (tests); without it names are resolved as createResolveAddresses says.
 */
export function createGuardedLookup(allowPrivate: boolean, resolve?: ResolveAddresses, settings: GuardedLookupOptions = { timeoutMs: DEFAULT_TIMEOUT_MS }) {
  const resolveAddresses = resolve ?? createResolveAddresses(allowPrivate, settings);
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const wanted = family === 4 || family === 6 ? family : 0;
    resolveAddresses(hostname, wanted).then(
      (resolved) => {
        if (!allowPrivate) {
          for (const { address } of resolved) {
            const reason = isForbiddenAddress(address);
            if (reason !== null) {
              callback(new ForbiddenAddressError(hostname, address, reason), '');
              return;
            }
          }
        }
        const usable = wanted !== 0 ? resolved.filter((a) => a.family === wanted) : resolved;
        const first = usable[0];
        if (!first) {
          callback(dnsError(hostname, 'ENOTFOUND'), '');
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
