// Elasticsearch's _bulk answers at their real size. A created item names its backing index, version,
// shards, sequence number and primary term (~230 bytes); a 409, 400 or 429 item carries an error with
// a long reason (~400-500 bytes). Aegis asks for a small answer (filter_path) and reads enough of a
// full one (a proxy or cluster that ignores filter_path) to settle each event from its own item: one
// bad document never holds back the batch it came in, and shed items are pacing, not failures.
import { expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../src/delivery/configuredLimits.js';
import { scrubThread } from '../../../src/delivery/scrubThread.js';
import { leakScanner } from '../../support/secretForms.js';
import type { ReceivedRequest, ReceiverResponse } from '../../support/httpsReceiver.js';
import { eventIdsOf, jobRows, receivedCounts } from './support.js';
import {
  bulkReceiver,
  deadLettersOnceSettled,
  describeShedding,
  ELASTIC_AUTH,
  elasticDestination,
  filterPathOf,
  type ItemAnswer,
  type Shedding,
} from './elasticSupport.js';

/** Where a hostile answer quotes the request's credential (elasticSupport's ELASTIC_AUTH). */
const AUTH_ECHO = '@@authorization@@';
const METRICS_TOKEN = 'elastic-answers-metrics-token-0123456789';
const BACKING_INDEX = '.ds-logs-aegis.preflight-default-2026.05.15-000001';
/** What Aegis asks of a _bulk answer: what it reads of each item, and nothing more. */
const FILTER_PATH = 'errors,items.*._id,items.*.status,items.*.error.type,items.*.error.reason';
/** What the client read of any answer before it scaled with the batch. */
const OLD_CAP = 64 * 1024;

let seqNo = 48_213;
const created = () => ({
  _index: BACKING_INDEX,
  _version: 1,
  result: 'created',
  _shards: { total: 2, successful: 1, failed: 0 },
  _seq_no: seqNo++,
  _primary_term: 1,
  status: 201,
});
/** A create of an _id already indexed: Elasticsearch's answer to a resend. */
const conflict = (eventId: string) => ({
  _index: BACKING_INDEX,
  status: 409,
  error: {
    type: 'version_conflict_engine_exception',
    reason: `[${eventId}]: version conflict, document already exists (current version [1])`,
    index_uuid: 'nQ3kqU8bS6aYw1d0mZr4Fg',
    shard: '0',
    index: BACKING_INDEX,
  },
});
const VALUE = 'two hundred and seven bytes, as a sentence a broken ingest pipeline wrote';
const mappingError = (eventId: string) => ({
  _index: BACKING_INDEX,
  status: 400,
  error: {
    type: 'mapper_parsing_exception',
    reason: `failed to parse field [aegis.input_size_bytes] of type [long] in document with id '${eventId}'. Preview of field's value: '${VALUE}'`,
    caused_by: { type: 'illegal_argument_exception', reason: `For input string: "${VALUE}"` },
  },
});
const SHED = {
  _index: BACKING_INDEX,
  status: 429,
  error: {
    type: 'es_rejected_execution_exception',
    reason:
      'rejected execution of coordinating operation [coordinating_and_primary_bytes=106954752, replica_bytes=0, all_bytes=106954752, coordinating_operation_bytes=5242880, max_coordinating_and_primary_bytes=107374182]',
  },
};
/** Written at the first sending; a resend is answered 409, as the cluster does. */
const writtenOnce = (n: number, eventId: string) => (n === 1 ? created() : conflict(eventId));

/** `handler`, recording the size of each answer it gives. */
function measured(handler: (req: ReceivedRequest) => Promise<ReceiverResponse>, sizes: number[]) {
  return async (req: ReceivedRequest) => {
    const res = await handler(req);
    sizes.push(Buffer.byteLength(String(res.body ?? '')));
    return res;
  };
}

/** One document refused for its mapping among `events`, the rest written at once. */
async function oneBadDocument(t: Shedding, events: number, bad: number, opts: { ignoreFilterPath?: boolean }) {
  const sizes: number[] = [];
  const answer: ItemAnswer = (seeded, n, eventId) => (seeded === bad ? mappingError(eventId) : writtenOnce(n, eventId));
  const d = await elasticDestination(t, measured(bulkReceiver(answer, opts), sizes), events);
  const badId = d.ids[bad]!;
  const others = d.ids.filter((id) => id !== badId);

  expect(await deadLettersOnceSettled(t, d.destId, d.ids)).toEqual([
    expect.stringContaining(`${badId}: Elasticsearch 400 (Elasticsearch said: mapper_parsing_exception: failed to parse field`),
  ]);
  await expect.poll(async () => (await jobRows(t.tdb.db, d.destId)).length, { timeout: 120_000, interval: 100 }).toBe(1);
  // Dead-lettered at its first attempt, with its own reason; every other event arrived once.
  expect(await jobRows(t.tdb.db, d.destId)).toMatchObject([{ event_id: badId, status: 'failed', attempts: 1 }]);
  const counts = receivedCounts(t.receiver!.requests);
  expect(others.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect(counts.get(badId)).toBe(1);
  // Every request asked for the small answer.
  expect(
    t.receiver!.requests.map((r) =>
      filterPathOf(r)
        ?.map((p) => p.join('.'))
        .join(','),
    ),
  ).toEqual(t.receiver!.requests.map(() => FILTER_PATH));
  const { rows } = await t.tdb.db.query<{ consecutive_failures: number }>('SELECT consecutive_failures FROM destinations WHERE id = $1', [d.destId]);
  expect(rows[0]).toMatchObject({ consecutive_failures: 0 });
  return sizes;
}

describeShedding('Elastic answers at full size, one document refused', {}, (t) => {
  it('dead-letters the refused document at once with its reason, and delivers the others once', async () => {
    await oneBadDocument(t, 600, 7, {});
  });
});

// A proxy (or a cluster) that ignores filter_path answers every item in full: 1,000 of them are far
// past what a fixed cap of 64 KiB read, and still settle item by item.
describeShedding('Elastic answers in full despite filter_path', {}, (t) => {
  it('reads a full answer for 1,000 events and settles each event from its item', async () => {
    const sizes = await oneBadDocument(t, 1000, 500, { ignoreFilterPath: true });
    expect(Math.max(...sizes)).toBeGreaterThan(3 * OLD_CAP);
  });

  // A megabyte of answer is tenths of a second of scrubbing: on the worker's event loop it held every
  // other organization's deliveries that long (a hostile SIEM answering every request so).
  it('scrubs a large answer quoting the credential off the event loop: the refused item keeps no trace of it', async () => {
    const before = scrubThread.answeredOnThread;
    const bad = 3;
    const items = bulkReceiver(
      (seeded, n, eventId) => {
        if (seeded !== bad) return writtenOnce(n, eventId);
        const refused = mappingError(eventId);
        return { ...refused, error: { ...refused.error, reason: `failed to parse header [${AUTH_ECHO}] of document '${eventId}'` } };
      },
      { ignoreFilterPath: true },
    );
    const d = await elasticDestination(
      t,
      async (req) => {
        const res = await items(req);
        return { ...res, body: String(res.body).replaceAll(AUTH_ECHO, String(req.headers.authorization)) };
      },
      1000,
    );
    const dead = await deadLettersOnceSettled(t, d.destId, d.ids);
    expect(dead).toEqual([
      expect.stringContaining(`${d.ids[bad]}: Elasticsearch 400 (Elasticsearch said: mapper_parsing_exception: failed to parse header [[redacted]]`),
    ]);
    const { rows } = await t.tdb.db.query<{ text: string }>(
      `SELECT coalesce(string_agg(coalesce(error, '') || ' ' || coalesce(response_snippet, ''), ' '), '') AS text FROM delivery_attempts WHERE destination_id = $1`,
      [d.destId],
    );
    expect(leakScanner(`${dead.join(' ')} ${rows[0]!.text}`)(ELASTIC_AUTH)).toBeNull();
    // Answered by the thread (not scrubbed on the event loop, nor by its fallback).
    expect(scrubThread.answeredOnThread).toBeGreaterThan(before);
  });
});

// Every other item shed with a realistic 429: the shed items go back without an attempt and come
// again (alone, all refused: the limits are lowered), the others are written once.
describeShedding('Elastic sheds half a batch at full size', { AEGIS_METRICS_TOKEN: METRICS_TOKEN }, (t) => {
  it('gives every shed item back without an attempt, delivers the rest once, lowers the limits', async () => {
    const REJECTIONS = 2;
    let destId = '';
    const sent = new Map<string, number>();
    // Each shed event's attempts when its last, accepted, sending arrives.
    const attemptsAtLastSending = new Map<string, number>();
    const items = bulkReceiver((seeded, n, eventId) =>
      seeded % 2 === 1 && n <= REJECTIONS ? SHED : writtenOnce(n - (seeded % 2 === 1 ? REJECTIONS : 0), eventId),
    );
    const d = await elasticDestination(
      t,
      async (req) => {
        const ids = eventIdsOf(req);
        for (const id of ids) sent.set(id, (sent.get(id) ?? 0) + 1);
        const last = ids.filter((id) => sent.get(id) === REJECTIONS + 1);
        if (last.length > 0) {
          const jobs = new Map((await jobRows(t.tdb.db, destId)).map((j) => [j.event_id, j.attempts]));
          for (const id of last) attemptsAtLastSending.set(id, jobs.get(id) ?? -1);
        }
        return items(req);
      },
      600,
    );
    destId = d.destId;
    const shedIds = d.ids.filter((_, i) => i % 2 === 1);

    expect(await deadLettersOnceSettled(t, destId, d.ids)).toEqual([]);
    expect(shedIds.filter((id) => attemptsAtLastSending.get(id) !== 0)).toEqual([]);
    expect(await jobRows(t.tdb.db, destId)).toEqual([]);
    const counts = receivedCounts(t.receiver!.requests);
    expect(d.ids.filter((id) => counts.get(id) !== (shedIds.includes(id) ? REJECTIONS + 1 : 1))).toEqual([]);

    const { rows: dest } = await t.tdb.db.query<{ consecutive_failures: number; paused_until: Date | null }>(
      'SELECT consecutive_failures, paused_until FROM destinations WHERE id = $1',
      [destId],
    );
    expect(dest[0]).toMatchObject({ consecutive_failures: 0, paused_until: null });
    const metrics = await (await fetch(`${t.svc.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const rate = metrics.split('\n').find((l) => l.startsWith('aegis_delivery_limit_events_per_second{') && l.includes(destId));
    expect(rate, 'the limiter of the destination was never lowered').toBeDefined();
    expect(Number(rate!.split(' ').pop())).toBeLessThan(DEFAULT_LIMITS.elastic.eventsPerSecond);
    const throttled = new RegExp(`aegis_delivery_requests_total\\{destination_id="${destId}",siem="elastic",result="throttled"\\} (\\d+)`).exec(metrics);
    expect(Number(throttled?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  });
});
