import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { startWarnings } from './config/startWarnings.js';
import { reachablePublicUrl, type Config, type Role } from './config/env.js';
import type { Db } from './db/types.js';
import { embeddedDatabaseExists, openProcessDatabases } from './db/open.js';
import { resolve } from 'node:path';
import { watchDiskRoom, type DiskRoom } from './db/diskRoom.js';
import { migrate } from './db/migrate.js';
import { warnOfCredentialsOutsideRing } from './destinations/keyCoverage.js';
import { keyFileIds, keyFilePath, loadKeyRing, type KeyRing } from './crypto/keyring.js';
import { createLogger, type Logger } from './logger.js';
import { scanThread } from './events/scanThread.js';
import { scrubThread } from './delivery/scrubThread.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildApp } from './api/app.js';
import { Worker } from './delivery/worker.js';
import { createOutboundClient, type OutboundClient } from './delivery/outbound/client.js';
import type { DeliveryDeps } from './delivery/deliverBatch.js';
import { TokenCache } from './delivery/oauth2/tokenCache.js';
import { bootstrap } from './bootstrap.js';
import { createLoginLink } from './auth/sessions.js';
import { JOBS_CHANNEL } from './queue/types.js';
import { USER_AGENT } from './version.js';
import { Alerter } from './alerts/alerter.js';
import { ReplayRunner } from './replays/runner.js';
import { FilterRouter } from './filters/router.js';
import { BacklogLane } from './destinations/backlogLane.js';
import { prepareValidators } from './events/validate.js';

export const WEB_ROOT = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface Service {
  /** The API's database handle (migrations, requests, /metrics). */
  db: Db;
  /** The worker's: its own pool with --role all on PostgreSQL (db/open.ts), else the same as db. */
  workerDb: Db;
  app: FastifyInstance | null;
  worker: Worker | null;
  metrics: Metrics;
  keyRing: KeyRing;
  logger: Logger;
  /** Where the API listens (null for a worker-only process without a port). */
  address: string | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  role: Role;
  logger?: Logger;
  /** Extra CA certificates for outbound TLS (tests); NODE_EXTRA_CA_CERTS works as usual too. */
  extraCa?: string;
  /** Print the start banner (CLI); off in tests. */
  banner?: boolean;
  /** Bind the HTTP port (default true). */
  listen?: boolean;
  /** Use an already opened database (tests). */
  db?: Db;
  /** The environment `config` was read from (the CLI: process.env): names in it that are no setting are warned about. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Aborted (the CLI: SIGINT/SIGTERM) to stop a start that is still under way: startService then
   * closes what it opened and rejects with StartInterrupted, without listening or printing the banner.
   */
  signal?: AbortSignal;
}

/** startService stopped by its signal; what it had opened is closed (see StartOptions.signal). */
export class StartInterrupted extends Error {
  constructor(readonly listened: boolean) {
    super(listened ? 'start-up interrupted before the service was ready; stopped what had started' : 'start-up interrupted; nothing was started');
    this.name = 'StartInterrupted';
  }
}

export function createDeliveryDeps(db: Db, keyRing: KeyRing, config: Config, extraCa?: string): DeliveryDeps & { client: OutboundClient } {
  const client = createOutboundClient({
    allowPrivate: config.allowPrivateDestinations,
    timeoutMs: config.httpTimeoutMs,
    userAgent: USER_AGENT,
    ...(extraCa ? { ca: extraCa } : {}),
  });
  return { db, keyRing, client, hostname: hostname(), userAgent: USER_AGENT, tokens: new TokenCache() };
}

/**
 * Composes the service for a role: `api` (REST, dashboard, health), `worker` (delivery; still serves
 * /healthz, /readyz and /metrics on $PORT), or `all` (the default single process).
 */
export async function startService(config: Config, opts: StartOptions): Promise<Service> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  // Process-wide, as the thread is: the last service started says it (tests start many).
  scanThread.onThreadFailure = (err) =>
    logger.warn({ err: err.message }, 'the scan thread for long preflight inputs failed; they are scanned on the event loop until it starts again');
  scrubThread.onThreadFailure = (err) =>
    logger.warn({ err: err.message }, 'the scrub thread for large SIEM answers failed; they are scrubbed on the event loop until it starts again');
  const { signal } = opts;
  let listened = false;
  // Between steps: a step under way is let finish (a PGlite open or migration cut short by the exit
  // would leave its files half written), except the PostgreSQL waits below.
  const checkpoint = () => {
    if (signal?.aborted) throw new StartInterrupted(listened);
  };
  checkpoint();
  for (const w of startWarnings(config, opts.role, !config.databaseUrl && !opts.db, opts.env)) {
    if (w.fields) logger.warn(w.fields, w.message);
    else logger.warn(w.message);
  }
  // A database already there when its key file is not: a copy or restore that left the file behind,
  // or a database made by `migrate` or `orgs create` before the first start. The credentials check
  // below tells them apart.
  const hadDatabase = !config.databaseUrl && !opts.db && embeddedDatabaseExists(config.dataDir);
  const { ring: keyRing, generated, source: keySource } = await loadKeyRing(config);
  if (generated)
    logger.info({ data_dir: config.dataDir }, 'generated an encryption key for credentials in the data directory (mode 0600); back it up with the data');
  const dbs = opts.db
    ? { api: opts.db, worker: opts.db, close: async () => undefined }
    : await openProcessDatabases(config, opts.role, logger, signal).catch((err: unknown) => {
        // The embedded database's wait for another container's lock ends at the signal.
        if (signal?.aborted) throw new StartInterrupted(listened);
        throw err;
      });
  const db = dbs.api;
  const workerDb = dbs.worker;
  // What start-up opened besides the databases, newest first: the databases close after them.
  let closeables: Array<() => Promise<void>> = [];
  // A statement left waiting on PostgreSQL by an interruption (untilInterrupted) keeps its pooled
  // connection, and a pool ends only once every connection is back.
  let abandoned = false;
  /**
   * A wait on PostgreSQL that may last (another process's migration lock, a connect to a server that
   * does not answer) ends at the signal. What was left waiting is harmless: the CLI exits next, which
   * closes its connection, and the server rolls back its transaction. Not the embedded database, whose
   * statements run in this process and are let finish.
   */
  const untilInterrupted = <T>(work: Promise<T>): Promise<T> => {
    if (!signal || db.kind !== 'postgres') return work;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        abandoned = true;
        work.catch(() => undefined);
        reject(new StartInterrupted(listened));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  try {
    checkpoint();
    // The signal also ends migrate's own retrying (a try cut short by a lock held elsewhere), so an
    // interrupted start leaves no retry loop behind to keep the pool open.
    const applied = await untilInterrupted(migrate(db, signal ? { logger, signal } : { logger }));
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    checkpoint();
    // A key dropped from the ring too early: said once at start, not only on each destination it stalls.
    const ignoredKeyFile = keySource === 'env' && !config.databaseUrl ? () => keyFileIds(config.dataDir) : undefined;
    await untilInterrupted(
      warnOfCredentialsOutsideRing(db, keyRing, logger, {
        ignoredKeyFile,
        ringSource: keySource,
        generatedKeyFile: generated && hadDatabase ? keyFilePath(config.dataDir) : undefined,
      }),
    );
    checkpoint();
    // Before listening: automation that waits for the port may use the bootstrap key at once.
    const boot = opts.role !== 'worker' ? await bootstrap(db, config) : null;
    // Only the key's hash is stored: it is printed here, right after the commit, not with the banner,
    // so that no later failure (the port in use, a worker that cannot start) loses it for good. The
    // CLI handles SIGINT/SIGTERM in JavaScript, and a signal callback cannot run between the commit's
    // continuation and this synchronous write. Not raced with the signal either: a start interrupted
    // between the commit and this line would lose the key.
    if (boot?.newApiKey && opts.banner) printNewApiKey(boot.orgId, boot.newApiKey, !config.databaseUrl);
    checkpoint();
    const metrics = createMetrics(db, { perDestination: config.metricsToken !== null });
    const delivery = createDeliveryDeps(db, keyRing, config, opts.extraCa);
    closeables = [() => delivery.client.close(), ...closeables];
    // The worker's deliveries, settles and alerts go through its own pool; test probes (an API
    // request) through the API's. One outbound client for both.
    const workerDelivery = { ...delivery, db: workerDb };

    let worker: Worker | null = null;
    let alerter: Alerter | null = null;
    let replays: ReplayRunner | null = null;
    if (opts.role !== 'api') {
      // Background range replays run where the worker runs (docs/history.md).
      replays = new ReplayRunner(
        { db: workerDb, logger: logger.child({ component: 'replays' }) },
        { batch: config.replays.batch, leaseMs: config.leaseMs, scanIntervalMs: config.workerIntervalMs, retentionDays: config.retentionDays },
      );
      // Alerts are judged where the worker records state changes, and sent from its own timer.
      alerter = new Alerter(
        { db: workerDb, keyRing, client: delivery.client, logger: logger.child({ component: 'alerts' }) },
        {
          publicUrl: config.publicUrl,
          smtpUrl: config.alerts.smtpUrl,
          alertFrom: config.alerts.from,
          emailDomains: config.alerts.emailDomains,
          digestWindowMs: config.alerts.digestWindowMs,
          maxHoldHours: config.maxHoldHours,
          httpTimeoutMs: config.httpTimeoutMs,
        },
      );
      worker = new Worker(
        { db: workerDb, delivery: workerDelivery, metrics, logger: logger.child({ component: 'worker' }), alerts: alerter },
        {
          intervalMs: config.workerIntervalMs,
          leaseMs: config.leaseMs,
          retryDelaysS: config.retryDelaysS,
          retentionDays: config.retentionDays,
          maxHoldHours: config.maxHoldHours,
          rateLimitedFailingAfterMs: config.rateLimitedFailingAfterMs,
          splunkAckTimeoutMs: config.splunkAck.timeoutMs,
          splunkAckPollMs: config.splunkAck.pollMs,
        },
      );
    }
    const wakeWorkers = () => {
      // Same-process worker: wake directly. Others hear the NOTIFY sent with each enqueue.
      worker?.wake();
      if (!worker) void db.query(`SELECT pg_notify('${JOBS_CHANNEL}', '')`).catch(() => undefined);
    };
    const wakeLocalWorker = () => worker?.wake();
    const wakeReplays = () => {
      // The accepting transaction NOTIFYs other processes on commit; this process's runner is woken directly.
      replays?.wake();
    };
    // The embedded database's disk, read while the API records events: below the floor, ingest is
    // refused (503) before PGlite runs out of room mid-commit, which hangs it (db/diskRoom.ts).
    let diskRoom: DiskRoom | null = null;
    if (db.kind === 'pglite' && opts.role !== 'worker' && config.minFreeDiskMb > 0) {
      diskRoom = await watchDiskRoom(resolve(config.dataDir), config.minFreeDiskMb, logger);
      const room = diskRoom;
      closeables = [() => Promise.resolve(room.stop()), ...closeables];
    }
    // Stopped after the app (closeables run newest first): no delete adds to it then.
    const backlog = new BacklogLane(logger);
    closeables = [() => backlog.stop(), ...closeables];
    const app = await buildApp({
      db,
      config,
      keyRing,
      logger,
      metrics,
      delivery,
      wakeWorkers,
      wakeLocalWorker,
      wakeReplays,
      filterRouter: new FilterRouter(),
      backlog,
      diskRoom,
      webRoot: opts.role === 'worker' ? null : WEB_ROOT,
      apiEnabled: opts.role !== 'worker',
    });

    // The event validators compile on first use, and a worker never validates events. An API compiles
    // them before it listens: compiling holds the event loop (about 0.5 s of CPU, seconds on a busy
    // machine), and once listening, requests arriving meanwhile would wait behind it.
    if (opts.role !== 'worker') prepareValidators();
    checkpoint();
    let address: string | null = null;
    if (opts.listen !== false) {
      address = await app.listen({ port: config.port, host: config.host });
      listened = true;
    }
    closeables = [() => app.close(), ...closeables];
    checkpoint();
    if (alerter) {
      // Stopped after the worker (closeables run newest first), so its last settles are still judged.
      const a = alerter;
      a.start();
      closeables = [() => a.stop(), ...closeables];
    }
    if (worker) {
      await worker.start();
      const w = worker;
      closeables = [() => w.stop(), ...closeables];
      checkpoint();
    }
    if (replays) {
      await replays.start();
      const r = replays;
      closeables = [() => r.stop(), ...closeables];
      checkpoint();
    }

    if (boot && opts.banner) {
      const publicUrl = reachablePublicUrl(config.publicUrl, () => address);
      // A sign-in link is a credential, and a start's output is usually a shipped log. On the embedded
      // database the link is the way in (no other process can open the files while this one runs);
      // on PostgreSQL only the start that created the organization prints one, and later starts the
      // command that makes one any time (a secrets review: every restart or redeploy handed whoever
      // reads the logs a session of the first tenant).
      const link = !config.databaseUrl || boot.created ? await createLoginLink(db, boot.orgId, publicUrl) : null;
      checkpoint();
      printBanner({ address: address ?? config.publicUrl, orgId: boot.orgId, link, publicUrl, config });
    }
    // The start's last line ("Server listening at" comes before the worker and the replay runner
    // start): from here a stop is a clean one (exit 0), before it an interrupted start (exit 143).
    logger.info({ role: opts.role, address }, 'service started');

    let stopped = false;
    return {
      db,
      workerDb,
      app,
      worker,
      metrics,
      keyRing,
      logger,
      address,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const c of [...closeables, () => dbs.close()])
          await c().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'error while stopping'));
      },
    };
  } catch (err) {
    for (const c of closeables) await c().catch(() => undefined);
    // Ends the idle connections; the one still waiting goes with the exit (untilInterrupted).
    if (abandoned) void dbs.close().catch(() => undefined);
    else await dbs.close().catch(() => undefined);
    // The signal ended a step that takes it itself (migrate's checks and pauses, which throw an
    // AbortError; on PGlite, whose long steps hold the event loop, a signal is often handled only
    // there): an interrupted start like any other, not an unexpected error.
    if (signal?.aborted && isAbortError(err)) throw new StartInterrupted(listened);
    throw err;
  }
}

/** The rejection of a step that an AbortSignal ended (AbortSignal.throwIfAborted, timers/promises). */
function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function printNewApiKey(orgId: string, apiKey: string, embedded: boolean): void {
  // The command as a clone runs it (npx finds the project's own bin). On the embedded database it
  // cannot run beside this process, which holds the data directory: said here, not after a refusal.
  const more = `npx aegis-stream api-keys create --org ${orgId}`;
  const lines = [
    '',
    `First start: created organization ${orgId} and an API key for it.`,
    `  API key:       ${apiKey}`,
    `                 (shown once: only its hash is stored. Create more with: ${more}${embedded ? ', with the service stopped' : ''})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function printBanner(b: { address: string; orgId: string; link: string | null; publicUrl: string; config: Config }): void {
  const lines = [
    '',
    `Aegis Audit Stream is listening on ${b.address}`,
    `  database:      ${b.config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${b.config.dataDir}`}`,
    `  organization:  ${b.orgId}`,
    ...(b.link !== null
      ? [`  dashboard:     ${b.link}`, '                 (one-time sign-in link, valid 15 minutes)']
      : [`  dashboard:     ${b.publicUrl}`, `                 (a sign-in link: npx aegis-stream login-link --org ${b.orgId}, with this DATABASE_URL)`]),
    `  API docs:      ${b.publicUrl}/docs`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
