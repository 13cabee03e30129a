import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { within } from './within.js';
import type { Db } from './db/types.js';
import { queueDepth, type DestinationDepth } from './queue/prune.js';

/** How a request to a SIEM ended, as aegis_delivery_requests_total counts it. */
export type RequestResultLabel = 'ok' | 'partial' | 'throttled' | 'failed';

export interface Metrics {
  registry: Registry;
  /**
   * The labels for a destination's series: its id only when /metrics is behind AEGIS_METRICS_TOKEN.
   * An open /metrics would otherwise list every organization's destination ids to anyone who asks.
   */
  destinationLabels(destinationId: string, siem: string): { destination_id?: string; siem: string };
  /** destinationLabels plus the request's result: the labels of `requests`. */
  requestLabels(destinationId: string, siem: string, result: RequestResultLabel): { destination_id?: string; siem: string; result: RequestResultLabel };
  delivered: Counter<'destination_id' | 'siem'>;
  retried: Counter<'destination_id' | 'siem'>;
  deadLettered: Counter<'destination_id' | 'siem'>;
  requests: Counter<'destination_id' | 'siem' | 'result'>;
  /** Seconds from the event being recorded to its delivery being confirmed. */
  deliveryLatency: Histogram<'siem'>;
  requestDuration: Histogram<'siem'>;
  eventsRecorded: Counter<'source'>;
  /** HTTP requests to SIEMs waiting for their answer right now (a silent SIEM shows up here). */
  requestsInFlight: Gauge<'siem'>;
  /** Events this worker holds in memory (claimed, encoding or in flight), against its budget. */
  eventsHeld: Gauge;
  /**
   * Requests the per-organization admission gate (api/orgAdmission.ts) refused, by reason, and those
   * waiting for a place or being served. No org label: organizations are unbounded, and an open /metrics would name
   * them; the refusal's warn line names the organization.
   */
  apiRequestsRefused: Counter<'reason'>;
  apiRequestsWaiting: Gauge;
  apiRequestsInFlight: Gauge;
  /**
   * The destinations some per-destination counter of this process holds a series for: none unless
   * /metrics is behind AEGIS_METRICS_TOKEN (the labels are per SIEM otherwise).
   */
  labelledDestinations(): Promise<string[]>;
  /**
   * Drops every series of these destinations (gone from the database): a counter keeps a series for
   * ever once incremented, so a tenant creating and deleting destinations in a loop grew /metrics,
   * the worker's memory and the operator's Prometheus without bound (an observability review).
   */
  forgetDestinations(ids: ReadonlySet<string>): Promise<void>;
  /**
   * Where the per-destination limit gauges read from at scrape time (the worker's limiters; none in an
   * API-only process). Set once by the worker.
   */
  setLimitsSource(source: () => LimitSnapshot[]): void;
}

/** One destination's delivery limits as the worker applies them right now. */
export interface LimitSnapshot {
  destinationId: string;
  siem: string;
  effective: { eventsPerSecond: number; concurrentRequests: number };
  /** Below its configured limits, or waiting out a Retry-After. */
  throttled: boolean;
}

export interface MetricsOptions {
  /** Label series with destination ids (only when the endpoint requires a token). */
  perDestination: boolean;
}

export function createMetrics(db: Db | null, { perDestination }: MetricsOptions): Metrics {
  const registry = new Registry();
  // Event loop lag sampled every 100 ms, not prom-client's 10: its monitor is a timer that wakes the
  // loop at that interval, and at 10 ms those wake-ups were most of an idle process's CPU (API 4.7
  // against 0.7, worker 5.3 against 1.0 ms of CPU a second: `npm run bench -- --scenario idle`,
  // docs/BENCHMARKS.md). A stall of 100 ms or more is always seen; a shorter one is caught in
  // proportion to its length.
  collectDefaultMetrics({ register: registry, prefix: 'aegis_', eventLoopMonitoringPrecision: 100 });
  const dest = perDestination ? (['destination_id', 'siem'] as const) : (['siem'] as const);
  let limitsSource: () => LimitSnapshot[] = () => [];
  const m: Metrics = {
    registry,
    destinationLabels: (destinationId, siem) => (perDestination ? { destination_id: destinationId, siem } : { siem }),
    // Object literals, not `{ ...destinationLabels(), result }`: once optimised, V8 gives each object
    // spread that adds a key a hidden class of its own, and prom-client then reads the keys of a class
    // never seen before on every request (2.4-2.8 against 0.4-0.5 µs per increment, in a loop).
    requestLabels: (destinationId, siem, result) => (perDestination ? { destination_id: destinationId, siem, result } : { siem, result }),
    delivered: new Counter({
      name: 'aegis_events_delivered_total',
      help: 'Events delivered (2xx, or accepted per item).',
      labelNames: dest,
      registers: [registry],
    }),
    retried: new Counter({
      name: 'aegis_events_retried_total',
      help: 'Event delivery attempts that failed and were scheduled for retry.',
      labelNames: dest,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'aegis_events_dead_lettered_total',
      help: 'Events dead-lettered (status failed).',
      labelNames: dest,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'aegis_delivery_requests_total',
      help: 'HTTP requests sent to SIEMs, by result.',
      labelNames: [...dest, 'result'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'aegis_delivery_latency_seconds',
      help: 'Time from an event being recorded to its delivery being confirmed.',
      labelNames: ['siem'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'aegis_delivery_request_duration_seconds',
      help: 'Duration of one HTTP request to a SIEM.',
      labelNames: ['siem'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    eventsRecorded: new Counter({ name: 'aegis_events_recorded_total', help: 'Audit events recorded.', labelNames: ['source'], registers: [registry] }),
    requestsInFlight: new Gauge({
      name: 'aegis_delivery_requests_in_flight',
      help: 'HTTP requests to SIEMs awaiting their answer.',
      labelNames: ['siem'],
      registers: [registry],
    }),
    eventsHeld: new Gauge({
      name: 'aegis_worker_events_held',
      help: 'Events the worker holds in memory (claimed, encoding or in flight), bounded by its event budget.',
      registers: [registry],
    }),
    apiRequestsRefused: new Counter({
      name: 'aegis_api_requests_refused_total',
      help: 'API requests answered 429 because their organization had AEGIS_API_MAX_CONCURRENT_PER_ORG in flight and its queue was full (queue_full) or the wait ran out (wait_timeout), or because their credential, not yet seen by this process, found the lane where such credentials are checked full (unseen_credentials_queue_full, unseen_credentials_wait_timeout) or over AEGIS_API_NEW_CREDENTIALS_PER_SECOND (unseen_credentials_rate).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    apiRequestsWaiting: new Gauge({
      name: 'aegis_api_requests_waiting',
      help: "API requests waiting for a place among their organization's AEGIS_API_MAX_CONCURRENT_PER_ORG, all organizations together.",
      registers: [registry],
    }),
    apiRequestsInFlight: new Gauge({
      name: 'aegis_api_requests_in_flight',
      help: 'Organization-scoped API requests being served (admitted by AEGIS_API_MAX_CONCURRENT_PER_ORG), all organizations together; 0 when that is 0 (no limit).',
      registers: [registry],
    }),
    setLimitsSource: (source) => {
      limitsSource = source;
    },
    async labelledDestinations() {
      if (!perDestination) return [];
      const ids = new Set<string>();
      for (const counter of perDestinationCounters()) {
        for (const { labels } of (await counter.get()).values) if (typeof labels.destination_id === 'string') ids.add(labels.destination_id);
      }
      return [...ids];
    },
    async forgetDestinations(ids) {
      if (!perDestination || ids.size === 0) return;
      for (const counter of perDestinationCounters()) {
        for (const { labels } of (await counter.get()).values) {
          if (typeof labels.destination_id === 'string' && ids.has(labels.destination_id)) counter.remove(labels as Record<string, string>);
        }
      }
    },
  };
  const perDestinationCounters = (): Array<Counter<string>> => [m.delivered, m.retried, m.deadLettered, m.requests];
  // Adaptive limits (delivery/limits.ts). Per destination only where the other series are (behind
  // AEGIS_METRICS_TOKEN); otherwise one count per SIEM, so the series stay bounded.
  new Gauge({
    name: 'aegis_delivery_throttled_destinations',
    help: 'Destinations this worker currently sends to below their configured limits (after a 429 or 503 with Retry-After).',
    labelNames: ['siem'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const l of limitsSource()) if (l.throttled) counts.set(l.siem, (counts.get(l.siem) ?? 0) + 1);
      for (const [siem, n] of counts) this.set({ siem }, n);
    },
  });
  if (perDestination) {
    new Gauge({
      name: 'aegis_delivery_limit_events_per_second',
      help: 'Effective events-per-second limit of a destination this worker holds a limiter for (throttled or busy).',
      labelNames: ['destination_id', 'siem'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of limitsSource()) this.set({ destination_id: l.destinationId, siem: l.siem }, l.effective.eventsPerSecond);
      },
    });
    new Gauge({
      name: 'aegis_delivery_limit_concurrent_requests',
      help: 'Effective concurrent-requests limit of a destination this worker holds a limiter for (throttled or busy).',
      labelNames: ['destination_id', 'siem'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of limitsSource()) this.set({ destination_id: l.destinationId, siem: l.siem }, l.effective.concurrentRequests);
      },
    });
  }
  if (db) {
    // Queue figures come from the database at scrape time, so every process reports the same truth.
    // Every queue gauge reads one snapshot per scrape: a gauge filled from another gauge's collect()
    // would be serialised before it is filled (empty on every first scrape). A read that failed or ran
    // out of time (the database away, the jobs table locked by another session) is null: the queue
    // series are then left out, never reported as an empty queue, and aegis_queue_read_ok says 0.
    const readQueue = queueSnapshots(db);
    new Gauge({
      name: 'aegis_queue_read_ok',
      help: `1 when this scrape read the queue from the database; 0 when it could not within ${QUEUE_READ_DEADLINE_MS / 1000} s (the database away or a table locked), and the aegis_queue_* series are then absent.`,
      registers: [registry],
      async collect() {
        this.set((await readQueue()) ? 1 : 0);
      },
    });
    // Without per-destination labels: depth summed over destinations, age the oldest of them all.
    new Gauge({
      name: 'aegis_queue_depth',
      // Read from the shared database, so every process reports the same value: said in the help,
      // since a sum over processes (the obvious query) counts the queue once per process.
      help: `${perDestination ? 'Jobs by destination and status (pending, failed)' : 'Jobs by status (pending, failed), all destinations'}; read from the database, the same in every process: take one process's value (max) before adding up.`,
      labelNames: perDestination ? ['destination_id', 'status'] : ['status'],
      registers: [registry],
      async collect() {
        const rows = await readQueue();
        this.reset();
        if (!rows) return;
        if (!perDestination) {
          this.set(
            { status: 'pending' },
            rows.reduce((n, r) => n + r.pending, 0),
          );
          this.set(
            { status: 'failed' },
            rows.reduce((n, r) => n + r.failed, 0),
          );
          return;
        }
        for (const r of rows) {
          this.set({ destination_id: r.destinationId, status: 'pending' }, r.pending);
          this.set({ destination_id: r.destinationId, status: 'failed' }, r.failed);
        }
      },
    });
    new QueueGauge({
      name: 'aegis_queue_oldest_due_age_seconds',
      help: perDestination
        ? 'Age of the oldest due job per destination (0 when none is waiting).'
        : 'Age of the oldest due job of any destination (0 when none is waiting).',
      labelNames: perDestination ? ['destination_id'] : [],
      registers: [registry],
      async collect() {
        const rows = await readQueue();
        this.reset();
        (this as QueueGauge<string>).read = rows !== null;
        if (!rows) return;
        if (!perDestination) {
          this.set(rows.reduce((max, r) => Math.max(max, r.oldestDueAgeS), 0));
          return;
        }
        for (const r of rows) this.set({ destination_id: r.destinationId }, r.oldestDueAgeS);
      },
    });
    if (perDestination) {
      // Per organization, behind the token like the per-destination series (org ids name tenants), and
      // bounded: the TOP_ORGS organizations with the deepest queue, the most dead letters and the oldest due
      // job, so a noisy tenant is named whatever the number of organizations.
      new Gauge({
        name: 'aegis_queue_org_depth',
        help: `Jobs by organization and status (pending, failed), for the ${TOP_ORGS} organizations with the most pending jobs, the ${TOP_ORGS} with the most dead letters (failed) and the ${TOP_ORGS} with the oldest due job.`,
        labelNames: ['org_id', 'status'],
        registers: [registry],
        async collect() {
          const orgs = topOrgs(await readQueue());
          this.reset();
          for (const o of orgs) {
            this.set({ org_id: o.orgId, status: 'pending' }, o.pending);
            this.set({ org_id: o.orgId, status: 'failed' }, o.failed);
          }
        },
      });
      new Gauge({
        name: 'aegis_queue_org_oldest_due_age_seconds',
        help: 'Age of the oldest due job of an organization (0 when none is waiting), for the same organizations as aegis_queue_org_depth.',
        labelNames: ['org_id'],
        registers: [registry],
        async collect() {
          const orgs = topOrgs(await readQueue());
          this.reset();
          for (const o of orgs) this.set({ org_id: o.orgId }, o.oldestDueAgeS);
        },
      });
    }
  }
  return m;
}

/**
 * A queue gauge that has no sample at all when its collect() could not read the queue: prom-client
 * gives a gauge without labels a sample of 0 on every reset(), which would report an empty queue.
 */
class QueueGauge<T extends string> extends Gauge<T> {
  /** Set by collect(): whether this scrape read the queue. */
  read = true;
  override async get() {
    const out = await super.get();
    return this.read ? out : { ...out, values: [] };
  }
}

/**
 * How long the queue read of a scrape may run on PostgreSQL before the server cancels it
 * (statement_timeout, SET LOCAL in the read's own transaction: that read only, and safe behind a
 * transaction pooler), a wait for a lock included. The API pool's own limit is 30 s, Prometheus'
 * default scrape timeout 10 s: without this, a table locked by another session held the scrape 30 s.
 */
export const QUEUE_READ_TIMEOUT_MS = 3_000;

/**
 * How long a scrape waits for the queue figures at most, whatever holds them up: a connection of the
 * pool to come free or to a server that does not answer, or, on PGlite (one connection, and no
 * statement_timeout in its WebAssembly build), other work ahead of the read. Past it the scrape answers
 * without the queue series; a read still running is not repeated, the next scrape waits for it again.
 */
export const QUEUE_READ_DEADLINE_MS = 5_000;

/** Reads the queue for one scrape (under QUEUE_READ_TIMEOUT_MS on PostgreSQL). */
function readQueueBounded(db: Db): Promise<DestinationDepth[]> {
  if (db.kind !== 'postgres') return queueDepth(db);
  return db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL statement_timeout = ${QUEUE_READ_TIMEOUT_MS}`);
    return queueDepth(tx);
  });
}

/**
 * The queue figures of a scrape, shared by its gauges (and by scrapes within 250 ms of it): the rows,
 * or null when the read failed or did not end within QUEUE_READ_DEADLINE_MS.
 */
function queueSnapshots(db: Db): () => Promise<DestinationDepth[] | null> {
  let snapshot: Promise<DestinationDepth[] | null> | null = null;
  // The read itself, which may outlive a scrape that stopped waiting for it: never two at once.
  let inflight: Promise<DestinationDepth[] | null> | null = null;
  return () => {
    if (snapshot) return snapshot;
    if (!inflight) {
      const read = readQueueBounded(db).catch(() => null);
      inflight = read;
      void read.then(() => {
        if (inflight === read) inflight = null;
      });
    }
    const current = within(inflight, QUEUE_READ_DEADLINE_MS, () => null).then((rows) => {
      // Figures are shared for 250 ms after they came; a failure is not: the next scrape tries again.
      if (!rows) {
        if (snapshot === current) snapshot = null;
        return rows;
      }
      const clear = setTimeout(() => {
        if (snapshot === current) snapshot = null;
      }, 250);
      clear.unref();
      return rows;
    });
    snapshot = current;
    return current;
  };
}

/** How many organizations the per-organization queue series name, by depth and by age each. */
export const TOP_ORGS = 20;

interface OrgDepth {
  orgId: string;
  pending: number;
  failed: number;
  oldestDueAgeS: number;
}

/**
 * Per-destination figures summed per organization; the TOP_ORGS deepest, TOP_ORGS with the most dead
 * letters and TOP_ORGS oldest of them. Dead letters are never pruned, so an organization whose
 * destination dead-letters everything grows the database for good: ranked on pending jobs alone, it
 * dropped out of the series as soon as 20 others had something pending (a storage review).
 */
export function topOrgs(rows: readonly DestinationDepth[] | null, n = TOP_ORGS): OrgDepth[] {
  const byOrg = new Map<string, OrgDepth>();
  for (const r of rows ?? []) {
    const o = byOrg.get(r.orgId) ?? { orgId: r.orgId, pending: 0, failed: 0, oldestDueAgeS: 0 };
    o.pending += r.pending;
    o.failed += r.failed;
    o.oldestDueAgeS = Math.max(o.oldestDueAgeS, r.oldestDueAgeS);
    byOrg.set(r.orgId, o);
  }
  const all = [...byOrg.values()];
  /** The n organizations with the most of `value` (none with 0), ties by id. */
  const topBy = (value: (o: OrgDepth) => number) =>
    all
      .filter((o) => value(o) > 0)
      .sort((a, b) => value(b) - value(a) || a.orgId.localeCompare(b.orgId))
      .slice(0, n);
  return [...new Set([...topBy((o) => o.pending), ...topBy((o) => o.failed), ...topBy((o) => o.oldestDueAgeS)])];
}
