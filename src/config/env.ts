import { isEmailDomain } from '../alerts/recipients.js';
import { connectionTarget } from '../db/connectionString.js';

/**
 * Every environment variable the service reads, parsed and validated in one place at start. A bad
 * value stops the process with a message naming the variable and what is wrong with it.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Role = 'api' | 'worker' | 'all';

/**
 * What pg would otherwise throw with a stack trace at the first connection, said here in one line
 * (db/connectionString.ts: pg's own parse, which reads the TLS files the URL names). The value is never
 * quoted: it may hold a password.
 */
function checkDatabaseUrl(databaseUrl: string): void {
  try {
    connectionTarget(databaseUrl);
  } catch (err) {
    const { code, path } = err as NodeJS.ErrnoException;
    if (path !== undefined) {
      const param = TLS_FILE_PARAMS.find((name) => tlsFileOf(databaseUrl, name) === path) ?? 'sslrootcert, sslcert or sslkey';
      const reason = code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      throw new ConfigError('DATABASE_URL', `the file of its ${param} parameter, ${path}, ${reason}`);
    }
    throw new ConfigError(
      'DATABASE_URL',
      'is not a valid URL (check the port, the brackets around an IPv6 address, and percent-encode special characters in the user and password; the value is not shown)',
    );
  }
}
const TLS_FILE_PARAMS = ['sslrootcert', 'sslcert', 'sslkey'] as const;
function tlsFileOf(databaseUrl: string, name: string): string | undefined {
  const m = new RegExp(`[?&]${name}=([^&#]*)`).exec(databaseUrl);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}

/**
 * Every environment variable the service reads, with its default and a one-line summary: what
 * `aegis-stream start --help` prints. docs/configuration.md explains each at length; a test keeps the
 * two, and what loadConfig actually reads, in step.
 */
export const ENV_VARS: readonly { name: string; default: string; summary: string }[] = [
  { name: 'PORT', default: '8080', summary: 'HTTP port of every role (0: any free port)' },
  { name: 'HOST', default: '127.0.0.1', summary: 'address to listen on (0.0.0.0 for other hosts)' },
  { name: 'AEGIS_PUBLIC_URL', default: 'http://$HOST:$PORT', summary: 'base of sign-in links and the docs link' },
  { name: 'AEGIS_DATA_DIR', default: './data', summary: 'embedded database and generated key file' },
  {
    name: 'AEGIS_MIN_FREE_DISK_MB',
    default: '256',
    summary: 'embedded database: below this much free disk under AEGIS_DATA_DIR, ingest answers 503 (0: never)',
  },
  { name: 'DATABASE_URL', default: 'unset (embedded PGlite)', summary: 'postgres:// URL of a PostgreSQL server' },
  { name: 'AEGIS_ENCRYPTION_KEY', default: 'unset (generated key file)', summary: 'base64 32-byte key, or a ring id:key,...' },
  { name: 'AEGIS_WORKER_INTERVAL_MS', default: '10000', summary: 'queue poll interval when nothing wakes the worker' },
  { name: 'AEGIS_RETRY_DELAYS_S', default: '60,120,240', summary: 'delays between delivery attempts, in seconds' },
  { name: 'AEGIS_HTTP_TIMEOUT_MS', default: '10000', summary: 'time limit of each phase of an outbound request (connect, answer, body)' },
  { name: 'AEGIS_LEASE_S', default: '60', summary: "how long a worker's claim on jobs lasts" },
  { name: 'AEGIS_SPLUNK_ACK_TIMEOUT_S', default: '300', summary: 'Splunk indexer acknowledgement: seconds to wait for an ack before sending again' },
  { name: 'AEGIS_SPLUNK_ACK_POLL_MS', default: '2000', summary: 'Splunk indexer acknowledgement: how often each destination polls /services/collector/ack' },
  { name: 'AEGIS_ALLOW_PRIVATE_DESTINATIONS', default: '0', summary: '1: allow http:// and local destinations (development only)' },
  { name: 'AEGIS_BOOTSTRAP_ORG_ID', default: 'unset', summary: 'organization to ensure on start' },
  { name: 'AEGIS_BOOTSTRAP_API_KEY', default: 'unset', summary: 'API key to ensure for that organization' },
  { name: 'AEGIS_RETENTION_DAYS', default: '7', summary: 'days to keep recorded events and the delivery log' },
  { name: 'AEGIS_SIGNING_OVERLAP_HOURS', default: '24', summary: 'hours a rotated signing secret still signs (0: switch at once)' },
  { name: 'AEGIS_LOG_LEVEL', default: 'info', summary: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'AEGIS_DB_POOL_MAX', default: '10', summary: 'PostgreSQL connections per process' },
  { name: 'AEGIS_DB_API_CONNECTIONS', default: '3', summary: 'of them kept for the API when one process runs API and worker' },
  { name: 'AEGIS_DB_PREPARED_STATEMENTS', default: '1', summary: '0: no prepared statements (PgBouncer in transaction mode before 1.21)' },
  {
    name: 'AEGIS_DB_API_STATEMENT_TIMEOUT_MS',
    default: '30000',
    summary: 'an API statement running or waiting longer (on a lock held elsewhere) is cancelled and answered 503 (0: no limit)',
  },
  { name: 'AEGIS_MAX_DESTINATIONS_PER_ORG', default: '100', summary: 'destinations one organization may have' },
  { name: 'AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG', default: '25', summary: 'of them enabled at once (bounds jobs per request)' },
  {
    name: 'AEGIS_API_MAX_CONCURRENT_PER_ORG',
    default: '4',
    summary: 'API requests of one organization served at once; more wait (up to 64 per place, 30 s), then 429 (0: no limit)',
  },
  {
    name: 'AEGIS_API_REQUEST_TIMEOUT_MS',
    default: '150000',
    summary: 'time a client has to send a whole request, headers and body; past it: 408 and the connection closed',
  },
  {
    name: 'AEGIS_API_NEW_CREDENTIALS_PER_SECOND',
    default: '100 embedded, 1000 PostgreSQL',
    summary: 'API keys, sessions and sign-in links not yet known to this process looked up a second, 2 at a time; more: 429 (0: no limit)',
  },
  { name: 'AEGIS_REPLAY_BATCH', default: '5000', summary: 'events a range replay queues per transaction; larger windows replay in the background' },
  { name: 'AEGIS_MAX_RUNNING_REPLAYS_PER_ORG', default: '2', summary: 'background range replays one organization may run at once' },
  { name: 'AEGIS_MAX_REPLAY_EVENTS', default: '5000000', summary: 'recorded events one range replay may cover' },
  { name: 'AEGIS_METRICS_TOKEN', default: 'unset (open /metrics, aggregate series)', summary: 'bearer token /metrics requires; per-destination series then' },
  { name: 'AEGIS_SMTP_URL', default: 'unset (no alert e-mails)', summary: 'smtp:// or smtps:// URL (with user:password) alert e-mails go through' },
  {
    name: 'AEGIS_ALERT_EMAIL_DOMAINS',
    default: 'unset (any domain)',
    summary: 'comma-separated domains alert e-mails may go to (and their subdomains)',
  },
  { name: 'AEGIS_ALERT_FROM', default: 'alerts@<AEGIS_PUBLIC_URL host>', summary: 'From address of alert e-mails' },
  { name: 'AEGIS_MAX_HOLD_HOURS', default: '168', summary: 'hours a destination may fail without a break before it is paused and its queue dead-lettered' },
  {
    name: 'AEGIS_RATE_LIMITED_FAILING_AFTER_S',
    default: '900',
    summary: 'seconds of nothing but 429s after which a destination counts as failing (and of sheds an event gets free)',
  },
  { name: 'AEGIS_ALERT_DIGEST_S', default: '30', summary: "seconds an organization's alerts are collected into one message" },
  { name: 'NODE_EXTRA_CA_CERTS', default: 'unset', summary: "PEM file of extra CAs for a SIEM's TLS (Node.js's own)" },
];

/**
 * The AEGIS_ variables in `env` that are no setting of the service (ENV_VARS), each with the setting
 * it most likely meant: the unprefixed setting of its name without AEGIS_ (AEGIS_PORT is PORT,
 * AEGIS_DATABASE_URL is DATABASE_URL), else the one whose name is nearest when one is within three
 * edits. A misspelt "AEGIS_RETENTION_DAY=3" was ignored without a word, and the service kept its default.
 */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): { name: string; nearest: string | null }[] {
  const known = ENV_VARS.map((v) => v.name);
  return Object.keys(env)
    .filter((name) => name.startsWith('AEGIS_') && !known.includes(name) && !notASetting(name, env[name] ?? ''))
    .sort()
    .map((name) => {
      const unprefixed = name.replace(/^AEGIS_(?:STREAM_)?/, '');
      if (known.includes(unprefixed)) return { name, nearest: unprefixed };
      let nearest: string | null = null;
      let best = 4;
      for (const k of known) {
        const d = editDistance(name, k, best);
        if (d < best) [nearest, best] = [k, d];
      }
      return { name, nearest };
    });
}

/**
 * AEGIS_ names that are no setting and no misspelling either: the API key's shell variable of the
 * product page's and the README's examples, and what Kubernetes puts in a pod's environment for a
 * Service named "aegis" or "aegis-stream" (AEGIS_PORT, AEGIS_SERVICE_HOST, AEGIS_PORT_8080_TCP_ADDR...).
 */
const NOT_SETTINGS = /^AEGIS_API_KEY$|^AEGIS(?:_STREAM)?_(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_(?:PROTO|PORT|ADDR))?)?)$/;
/**
 * Kubernetes' AEGIS_PORT is a service link ("tcp://10.0.0.1:8080"); "AEGIS_PORT=4000" is an operator
 * who meant PORT (every other setting is AEGIS_ something), and the service listened on 8080 without
 * a word (a docs review). Only the link form of that one name is let pass.
 */
const SERVICE_LINK_NAME = /^AEGIS(?:_STREAM)?_PORT$/;
const SERVICE_LINK = /^(?:tcp|udp|sctp):\/\//i;

function notASetting(name: string, value: string): boolean {
  if (!NOT_SETTINGS.test(name)) return false;
  return !SERVICE_LINK_NAME.test(name) || SERVICE_LINK.test(value.trim());
}

/** Levenshtein distance of `a` and `b`, or `limit` when it is at least that (names of a few dozen characters). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return Math.min(row[b.length]!, limit);
}

/** ENV_VARS as the text block of `start --help`. */
export function envVarsHelp(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length));
  return ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}; default ${v.default}`).join('\n');
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  /**
   * AEGIS_MIN_FREE_DISK_MB: on the embedded database, ingest is refused (503, Retry-After) while the
   * data directory's disk has less free than this (db/diskRoom.ts): PGlite out of room for a new WAL
   * file during a commit hangs the process. 0: never refused.
   */
  minFreeDiskMb: number;
  databaseUrl: string | null;
  /** Raw AEGIS_ENCRYPTION_KEY (parsed by the key ring), or null when unset. */
  encryptionKey: string | null;
  workerIntervalMs: number;
  retryDelaysS: number[];
  httpTimeoutMs: number;
  leaseMs: number;
  /** Splunk HEC indexer acknowledgement (options.indexer_ack): wait per request, and poll interval. */
  splunkAck: { timeoutMs: number; pollMs: number };
  allowPrivateDestinations: boolean;
  bootstrapOrgId: string | null;
  bootstrapApiKey: string | null;
  retentionDays: number;
  /** AEGIS_SIGNING_OVERLAP_HOURS: how long deliveries carry the previous signing secret's signature too. */
  signingOverlapHours: number;
  logLevel: string;
  dbPoolMax: number;
  /**
   * AEGIS_DB_API_CONNECTIONS: with --role all on PostgreSQL, the connections (out of dbPoolMax) in a
   * pool of the API's own, so a busy worker can never leave a request waiting for a connection.
   */
  dbApiConnections: number;
  /**
   * AEGIS_DB_PREPARED_STATEMENTS: the hot statements (db/prepared.ts) are parsed and planned once per
   * PostgreSQL connection. Off only for a pooler that cannot keep them (PgBouncer transaction mode < 1.21).
   */
  dbPreparedStatements: boolean;
  /**
   * AEGIS_DB_API_STATEMENT_TIMEOUT_MS: the API's pool only (db/open.ts) cancels a statement running
   * longer (db/pg.ts, PgOptions.statementTimeoutMs), so a request whose statement waits on a lock held
   * outside the service (a DBA's open transaction, a stuck migration) ends with a 503 instead of keeping
   * its organization's admission place and a connection of the API's pool for ever. 0: no limit.
   */
  dbApiStatementTimeoutMs: number;
  /** AEGIS_METRICS_TOKEN: /metrics requires it as a bearer token and then labels series per destination. */
  metricsToken: string | null;
  /** Alerts (docs/alerts.md). smtpUrl holds credentials: never log it. */
  alerts: { smtpUrl: string | null; from: string; digestWindowMs: number; emailDomains: string[] | null };
  /**
   * AEGIS_MAX_HOLD_HOURS: a destination failing without a break this long is paused and its pending
   * events are dead-lettered (docs/alerts.md), so an outage never holds events without end.
   */
  maxHoldHours: number;
  /**
   * AEGIS_RATE_LIMITED_FAILING_AFTER_S: a SIEM that has answered only 429 this long is failing (the
   * card, alerts, the hold limit), not pacing us.
   */
  rateLimitedFailingAfterMs: number;
  /** Per-organization caps: one tenant cannot make the service work for everyone else's time. */
  orgLimits: OrgLimits;
  /**
   * AEGIS_API_MAX_CONCURRENT_PER_ORG: authenticated requests of one organization the API serves at
   * once (api/orgAdmission.ts), so one tenant's flood never queues another's requests behind it. 0: no limit.
   */
  apiMaxConcurrentPerOrg: number;
  /**
   * AEGIS_API_REQUEST_TIMEOUT_MS: how long a client may take to send a whole request (Node's
   * requestTimeout). Fastify switches Node's own 300 s off, and a body that never ends then held its
   * connection, and every read of it in memory, for as long as the client liked (api/app.ts).
   */
  apiRequestTimeoutMs: number;
  /**
   * AEGIS_API_NEW_CREDENTIALS_PER_SECOND: lookups of credentials this API process has not yet accepted
   * (api/credentialChecks.ts), so a flood of made-up keys cannot spend the API's time before the
   * per-organization gate knows whose request it is.
   */
  apiNewCredentialsPerSecond: number;
  /** Range replays (docs/history.md). */
  replays: ReplayLimits;
}

export interface ReplayLimits {
  /** AEGIS_REPLAY_BATCH: events per replay transaction; a window with more runs in the background. */
  batch: number;
  /** AEGIS_MAX_RUNNING_REPLAYS_PER_ORG: background replays of one organization running at once. */
  maxRunningPerOrg: number;
  /** AEGIS_MAX_REPLAY_EVENTS: recorded events one replay's window may hold. */
  maxEvents: number;
}

export interface OrgLimits {
  /** Destinations an organization may have (AEGIS_MAX_DESTINATIONS_PER_ORG). */
  destinations: number;
  /**
   * Of them enabled at once (AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG): each recorded event makes one
   * job per enabled destination, so this also bounds the jobs one request creates (1,000 records x this).
   */
  enabledDestinations: number;
}

type Env = Record<string, string | undefined>;

/**
 * The one reading of a variable every kind below goes through: leading and trailing whitespace is
 * dropped, and what is left empty (`VAR=`, `VAR="   "`) is unset, as docs/configuration.md promises.
 */
function setting(env: Env, name: string): string | null {
  return env[name]?.trim() || null;
}

/**
 * AEGIS_API_NEW_CREDENTIALS_PER_SECOND's defaults. On the embedded database a lookup is about a
 * millisecond of the API thread itself, so 100 a second is a tenth of it; a PostgreSQL server does the
 * lookup elsewhere, and a fleet's first requests after a restart each bring a key to look up.
 */
export const NEW_CREDENTIALS_PER_SECOND = { pglite: 100, postgres: 1_000 } as const;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = setting(env, name);
  if (raw === null) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback = false): boolean {
  const raw = setting(env, name);
  if (raw === null) return fallback;
  const value = raw.toLowerCase();
  if (value === '0' || value === 'false' || value === 'no') return false;
  if (value === '1' || value === 'true' || value === 'yes') return true;
  throw new ConfigError(name, `must be 1, true or yes, or 0, false or no, got "${raw}"`);
}

/**
 * The base of a link the service hands out: AEGIS_PUBLIC_URL, or the address it listens on when that
 * was left at its default and PORT=0 bound a free port (a default ending in ":0" gives a dead link).
 */
export function reachablePublicUrl(publicUrl: string, listeningOrigin: () => string | null | undefined): string {
  // Asked only then: Fastify's listeningOrigin throws when the server is not listening.
  return (new URL(publicUrl).port === '0' && listeningOrigin()) || publicUrl;
}

/**
 * The default AEGIS_PUBLIC_URL, from HOST and PORT. HOST is an address to listen on, not a URL: a
 * review's "bad host" was told "HOST: must be an absolute http:// or https:// URL", which sends the
 * operator the wrong way.
 */
function publicUrlFromHost(host: string, port: number): string {
  try {
    return normalisedPublicUrl(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  } catch {
    // Not echoed when it holds "@": a user and password typed into it would be printed.
    const got = host.includes('@') ? '' : `, got ${JSON.stringify(host)}`;
    throw new ConfigError('HOST', `must be a host name or an IP address to listen on (such as 127.0.0.1, 0.0.0.0 or ::)${got}`);
  }
}

/**
 * AEGIS_PUBLIC_URL as URL writes it (scheme and host lower-case, default port dropped), without a
 * trailing slash: the one spelling every link, the cookie's Secure flag and the login-CSRF origin check
 * rely on. "HTTPS://Aegis.example.com" as typed would have failed a test for "https://".
 */
function normalisedPublicUrl(raw: string): string {
  // new URL() also takes "aegis.example.com:8443" (a scheme "aegis.example.com:"): sign-in links
  // built on it are not links at all, and the alert sender's default address has no domain.
  const parsed = URL.canParse(raw) ? new URL(raw) : null;
  // Credentials would be printed in the start banner and mailed in every sign-in link: they are
  // refused before anything else, and never echoed.
  if (parsed && (parsed.username !== '' || parsed.password !== '')) {
    throw new ConfigError('AEGIS_PUBLIC_URL', 'must not carry a user name or password (user:password@host)');
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw new ConfigError('AEGIS_PUBLIC_URL', `must be an absolute http:// or https:// URL, got "${shownUrl(raw).replace(/\/+$/, '')}"`);
  }
  // Links are this URL plus a path and a query ("/auth/login?token=..."): a query or a fragment of
  // its own would swallow them. A bare "?" or "#" counts too, which URL's search and hash hide. Not
  // echoed: a query may hold a token.
  if (parsed.href.includes('?')) throw new ConfigError('AEGIS_PUBLIC_URL', `must not carry a query ("?..."), got "${parsed.origin}${parsed.pathname}?..."`);
  if (parsed.href.includes('#')) throw new ConfigError('AEGIS_PUBLIC_URL', `must not carry a fragment ("#..."), got "${parsed.origin}${parsed.pathname}#..."`);
  return parsed.href.replace(/\/+$/, '');
}

/**
 * A URL that did not parse, as an error may show it: whatever may be a user's part (up to the last
 * "@") and a query or fragment are replaced, since a password with "/" or "#" in it, or a bad port,
 * is what makes it unparseable.
 */
function shownUrl(raw: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/*/.exec(raw)?.[0] ?? '';
  let rest = raw.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at !== -1) rest = `***${rest.slice(at)}`;
  const cut = rest.search(/[?#]/);
  return scheme + (cut === -1 ? rest : `${rest.slice(0, cut)}${rest[cut]}...`);
}

/** AEGIS_ALERT_EMAIL_DOMAINS: lower-cased domains, or null (unset: any). */
function alertEmailDomains(raw: string | null): string[] | null {
  if (raw === null) return null;
  const domains = raw.split(',').map((d) => d.trim().toLowerCase());
  const bad = domains.find((d) => !isEmailDomain(d));
  if (bad !== undefined) {
    throw new ConfigError('AEGIS_ALERT_EMAIL_DOMAINS', `must be domains separated by commas, such as example.com, ops.example.org; got "${bad}"`);
  }
  return [...new Set(domains)];
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = setting(env, 'HOST') ?? '127.0.0.1';
  const publicUrlSetting = setting(env, 'AEGIS_PUBLIC_URL');
  // Unset, it is built from HOST, which an error then names: the operator never set the other.
  const publicUrl = publicUrlSetting !== null ? normalisedPublicUrl(publicUrlSetting) : publicUrlFromHost(host, port);

  const databaseUrl = setting(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  if (databaseUrl) checkDatabaseUrl(databaseUrl);

  const delaysRaw = setting(env, 'AEGIS_RETRY_DELAYS_S') ?? '60,120,240';
  const retryDelaysS = delaysRaw.split(',').map((s) => s.trim());
  if (retryDelaysS.length > 20 || retryDelaysS.some((s) => !/^\d+(\.\d+)?$/.test(s) || Number(s) > 86_400)) {
    throw new ConfigError('AEGIS_RETRY_DELAYS_S', `must be a comma-separated list of up to 20 delays in seconds (each at most 86400), got "${delaysRaw}"`);
  }

  const bootstrapOrgId = setting(env, 'AEGIS_BOOTSTRAP_ORG_ID');
  const bootstrapApiKey = setting(env, 'AEGIS_BOOTSTRAP_API_KEY');
  if (bootstrapOrgId && !/^org_[A-Za-z0-9_-]{1,60}$/.test(bootstrapOrgId)) {
    throw new ConfigError('AEGIS_BOOTSTRAP_ORG_ID', 'must look like org_<letters, digits, _ or ->, at most 64 characters');
  }
  if (bootstrapApiKey && !bootstrapOrgId) {
    throw new ConfigError('AEGIS_BOOTSTRAP_API_KEY', 'is set but AEGIS_BOOTSTRAP_ORG_ID is not; set both');
  }
  if (bootstrapApiKey && (bootstrapApiKey.length < 24 || bootstrapApiKey.length > 200 || /\s/.test(bootstrapApiKey))) {
    throw new ConfigError('AEGIS_BOOTSTRAP_API_KEY', 'must be 24 to 200 characters without spaces');
  }

  const logLevel = setting(env, 'AEGIS_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('AEGIS_LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }

  const metricsToken = setting(env, 'AEGIS_METRICS_TOKEN');
  if (metricsToken !== null && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigError('AEGIS_METRICS_TOKEN', 'must be 16 to 256 visible ASCII characters without spaces (generate one with: openssl rand -hex 32)');
  }

  // Never echo the value in an error: the URL carries the SMTP password.
  const smtpUrl = setting(env, 'AEGIS_SMTP_URL');
  if (smtpUrl !== null) {
    let ok = false;
    try {
      const u = new URL(smtpUrl);
      ok = (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ConfigError(
        'AEGIS_SMTP_URL',
        'must be an smtp:// or smtps:// URL with a host, e.g. smtps://user:password@mail.example.com:465 (value not shown: it may hold a password)',
      );
  }
  const alertFrom = setting(env, 'AEGIS_ALERT_FROM') ?? `alerts@${new URL(publicUrl).hostname.replace(/^\[|\]$/g, '')}`;
  if (alertFrom.length > 320 || /[\r\n\0]/.test(alertFrom) || !/@/.test(alertFrom)) {
    throw new ConfigError('AEGIS_ALERT_FROM', 'must be an e-mail address, optionally with a name: Aegis <alerts@example.com>');
  }

  const emailDomains = alertEmailDomains(setting(env, 'AEGIS_ALERT_EMAIL_DOMAINS'));

  const dbPoolMax = int(env, 'AEGIS_DB_POOL_MAX', 10, 2, 200);
  // Unset, the API's share fits any pool: a small AEGIS_DB_POOL_MAX alone (2 or 3, for a one-role
  // process that never splits its pool) must not be refused for a variable the operator never set.
  const dbApiConnections = int(env, 'AEGIS_DB_API_CONNECTIONS', Math.min(3, dbPoolMax - 1), 1, 199);
  if (dbApiConnections >= dbPoolMax) {
    throw new ConfigError(
      'AEGIS_DB_API_CONNECTIONS',
      `must be less than AEGIS_DB_POOL_MAX (${dbPoolMax}) so the worker keeps a connection, got ${dbApiConnections}`,
    );
  }
  const dbApiStatementTimeoutMs = int(env, 'AEGIS_DB_API_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000);
  // A few milliseconds would cut ordinary statements on any busy server: below a second is a typo.
  if (dbApiStatementTimeoutMs > 0 && dbApiStatementTimeoutMs < 1000) {
    throw new ConfigError(
      'AEGIS_DB_API_STATEMENT_TIMEOUT_MS',
      `must be 0 (no limit) or at least 1000 (milliseconds, like every *_MS variable), got ${dbApiStatementTimeoutMs}`,
    );
  }
  return {
    port,
    host,
    publicUrl,
    dataDir: setting(env, 'AEGIS_DATA_DIR') ?? './data',
    // 256 MB: sixteen of PostgreSQL's 16 MB WAL segments, minutes of ingest at the fastest.
    minFreeDiskMb: int(env, 'AEGIS_MIN_FREE_DISK_MB', 256, 0, 10_000_000),
    databaseUrl,
    encryptionKey: setting(env, 'AEGIS_ENCRYPTION_KEY'),
    workerIntervalMs: int(env, 'AEGIS_WORKER_INTERVAL_MS', 10_000, 50, 3_600_000),
    retryDelaysS: retryDelaysS.map(Number),
    httpTimeoutMs: int(env, 'AEGIS_HTTP_TIMEOUT_MS', 10_000, 100, 120_000),
    leaseMs: int(env, 'AEGIS_LEASE_S', 60, 5, 3600) * 1000,
    splunkAck: {
      timeoutMs: int(env, 'AEGIS_SPLUNK_ACK_TIMEOUT_S', 300, 1, 3600) * 1000,
      pollMs: int(env, 'AEGIS_SPLUNK_ACK_POLL_MS', 2000, 100, 60_000),
    },
    allowPrivateDestinations: bool(env, 'AEGIS_ALLOW_PRIVATE_DESTINATIONS'),
    bootstrapOrgId,
    bootstrapApiKey,
    retentionDays: int(env, 'AEGIS_RETENTION_DAYS', 7, 1, 3650),
    signingOverlapHours: int(env, 'AEGIS_SIGNING_OVERLAP_HOURS', 24, 0, 720),
    logLevel,
    dbPoolMax,
    dbApiConnections,
    dbPreparedStatements: bool(env, 'AEGIS_DB_PREPARED_STATEMENTS', true),
    // 30 s: the API's statements are bounded by a page, a batch or a cap (QUEUE_COUNT_CAP, AEGIS_REPLAY_BATCH,
    // AEGIS_MAX_REPLAY_EVENTS) and take seconds at most on a large database (a destination's delete
    // removes its jobs a batch a statement, destinations/deletion.ts); a client commonly gives up after 30 to 60 s.
    dbApiStatementTimeoutMs,
    metricsToken,
    maxHoldHours: int(env, 'AEGIS_MAX_HOLD_HOURS', 168, 1, 8760),
    rateLimitedFailingAfterMs: int(env, 'AEGIS_RATE_LIMITED_FAILING_AFTER_S', 900, 0, 86_400) * 1000,
    alerts: { smtpUrl, from: alertFrom, digestWindowMs: int(env, 'AEGIS_ALERT_DIGEST_S', 30, 0, 3600) * 1000, emailDomains },
    orgLimits: {
      destinations: int(env, 'AEGIS_MAX_DESTINATIONS_PER_ORG', 100, 1, 100_000),
      enabledDestinations: int(env, 'AEGIS_MAX_ENABLED_DESTINATIONS_PER_ORG', 25, 1, 100_000),
    },
    // 4: the API is one event loop, and a few requests in flight already overlap one request's database
    // wait with another's CPU. Measured on 2 cores (64 clients of one organization posting 500-record
    // batches, docs/BENCHMARKS.md): that organization's throughput is the same at 2, 4 and no limit
    // (37-43 batches/s), while another organization's preflight p50 is 47 ms at 2, 87 ms at 4, 215 ms
    // at 8 and 1.4 s without the gate. 4 leaves room for a database farther away than loopback.
    apiMaxConcurrentPerOrg: int(env, 'AEGIS_API_MAX_CONCURRENT_PER_ORG', 4, 0, 1000),
    // 150 s: a 12 MiB batch at 100 KB/s after the longest wait for its organization's place (30 s,
    // api/orgAdmission.ts), which comes before the body is read and so counts. The headers' own limit
    // is Node's (60 s, or this when lower).
    apiRequestTimeoutMs: int(env, 'AEGIS_API_REQUEST_TIMEOUT_MS', 150_000, 1000, 3_600_000),
    apiNewCredentialsPerSecond: int(
      env,
      'AEGIS_API_NEW_CREDENTIALS_PER_SECOND',
      databaseUrl ? NEW_CREDENTIALS_PER_SECOND.postgres : NEW_CREDENTIALS_PER_SECOND.pglite,
      0,
      100_000,
    ),
    replays: {
      batch: int(env, 'AEGIS_REPLAY_BATCH', 5000, 10, 50_000),
      maxRunningPerOrg: int(env, 'AEGIS_MAX_RUNNING_REPLAYS_PER_ORG', 2, 1, 1000),
      maxEvents: int(env, 'AEGIS_MAX_REPLAY_EVENTS', 5_000_000, 1, 1_000_000_000),
    },
  };
}
