// Shared set-up for the Elastic delivery suites (elasticThrottle, elasticAnswers): a test service per
// database, a `_bulk` receiver answering item by item as Elasticsearch does, and an Elastic destination.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { DECISIONS_ONLY, startReceiver, type ReceivedRequest, type Receiver, type ReceiverResponse } from '../../support/httpsReceiver.js';
import { allDelivered, jobRows, seedEvents } from './support.js';

/** One retry: an event is attempted at most twice before it is dead-lettered. */
export const RETRY_DELAYS_S = '1';

/** One database's test service, and the receiver the current test starts. */
export interface Shedding {
  tdb: TestDb;
  svc: TestService;
  receiver?: Receiver;
}

/** A describe per database, with a test service started with `env` (and the one retry). */
export function describeShedding(title: string, env: Record<string, string>, body: (t: Shedding) => void): void {
  describe.each(DB_KINDS)(`${title} (%s)`, (kind) => {
    const t = {} as Shedding;
    beforeAll(async () => {
      t.tdb = await openTestDb(kind);
      t.svc = await startTestService(t.tdb.db, { AEGIS_RETRY_DELAYS_S: RETRY_DELAYS_S, ...env });
    });
    afterAll(async () => {
      await t.svc?.stop();
      await t.receiver?.close();
      await t.tdb?.close();
    });
    body(t);
  });
}

/** What the cluster answers for one document (the fields of its item beside _index and _id): `n` is how many times this _id has been sent. */
export type ItemAnswer = (seeded: number, n: number, eventId: string) => Promise<{ status: number }> | { status: number };

/**
 * Elasticsearch's response filtering (filter_path) for the paths a `_bulk` client asks for: a
 * comma-separated list of dotted paths where `*` matches any one key; arrays are walked through.
 * Only what is named is kept (an object left empty is dropped, as Elasticsearch does).
 */
export function filterPath(value: unknown, paths: string[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => filterPath(v, paths)).filter((v) => v !== undefined);
  if (paths.some((p) => p.length === 0)) return value;
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const rest = paths.filter((p) => p[0] === '*' || p[0] === key).map((p) => p.slice(1));
    if (rest.length === 0) continue;
    const kept = filterPath(v, rest);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The filter_path a request asked for, split into paths, or null. */
export function filterPathOf(req: ReceivedRequest): string[][] | null {
  const value = new URL(req.path, 'https://receiver.invalid').searchParams.get('filter_path');
  return value === null ? null : value.split(',').map((p) => p.split('.'));
}

/**
 * A `_bulk` answer 200 built item by item, as Elasticsearch does, by `answer` for each document
 * (`seeded`: the event's number in seedEvents' order, read from its summary). The answer honours the
 * request's filter_path unless `ignoreFilterPath` (a proxy, or a cluster, that answers in full).
 */
export function bulkReceiver(answer: ItemAnswer, opts: { ignoreFilterPath?: boolean } = {}): (req: ReceivedRequest) => Promise<ReceiverResponse> {
  const sent = new Map<string, number>();
  return async (req) => {
    const lines = req.body.toString('utf8').split('\n');
    const items = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!).create;
      const n = (sent.get(action._id) ?? 0) + 1;
      sent.set(action._id, n);
      const seeded = Number(/\(#(\d+)\)/.exec(JSON.parse(lines[i + 1]!).aegis.summary)![1]);
      items.push({ create: { _index: action._index, _id: action._id, ...(await answer(seeded, n, action._id)) } });
    }
    const errors = items.some((x) => x.create.status >= 300);
    const full = { took: 1, errors, items };
    const paths = opts.ignoreFilterPath ? null : filterPathOf(req);
    const body = paths ? (filterPath(full, paths) ?? {}) : full;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  };
}

/** The credential every Elastic destination here is given. */
export const ELASTIC_AUTH = 'ApiKey aWQ6a2V5';

/** An organization with an Elastic destination at a receiver answering with `handler`, and `events` seeded. */
export async function elasticDestination(
  t: Shedding,
  handler: (req: ReceivedRequest) => Promise<ReceiverResponse>,
  events: number,
): Promise<{ orgId: string; apiKey: string; destId: string; ids: string[] }> {
  const org = await t.svc.newOrg();
  t.receiver = await startReceiver(handler);
  const res = await t.svc.request('POST', `/api/orgs/${org.orgId}/forwarding-destinations`, {
    apiKey: org.apiKey,
    body: { filter: DECISIONS_ONLY, siem: 'elastic', url: `${t.receiver.url}/_bulk`, auth_header_name: 'Authorization', auth_header_value: ELASTIC_AUTH },
  });
  expect(res.status, res.text).toBe(201);
  return { ...org, destId: res.body.destination_id as string, ids: await seedEvents(t.tdb.db, org.orgId, events) };
}

/** A job's attempts as the worker sees it while a request for it is in flight (no transaction is held). */
export async function attemptsOf(t: Shedding, destId: string, eventId: string): Promise<number | undefined> {
  return (await jobRows(t.tdb.db, destId)).find((j) => j.event_id === eventId)?.attempts;
}

/**
 * Waits until every event is delivered, or one is dead-lettered (then at once, not at a timeout), and
 * returns the dead letters with their errors.
 */
export async function deadLettersOnceSettled(t: Shedding, destId: string, ids: string[]): Promise<string[]> {
  const deadLetters = async () => (await jobRows(t.tdb.db, destId)).filter((j) => j.status === 'failed').map((j) => `${j.event_id}: ${j.last_error}`);
  await expect
    .poll(async () => (await allDelivered(t.tdb.db, destId, ids, t.receiver!.requests)) || (await deadLetters()).length > 0, {
      timeout: 120_000,
      interval: 100,
    })
    .toBe(true);
  return deadLetters();
}
