import { describe, expect, it } from 'vitest';
import type { SiemEncoder, SiemEvent } from '../siem/types.js';
import { wholeVerdict } from '../siem/types.js';
import { sampleEvent } from '../siem/testEvents.js';
import { interpretAnswer } from './interpretAnswer.js';
import { getEncoder } from '../siem/registry.js';
import { SIEM_IDS } from '../siem/catalog.js';
import { ACK_REUSED_ERROR, ACK_TIMEOUT_ERROR } from './ackTracker.js';
import type { NetworkFailure, OutboundResult } from './outbound/types.js';
import { decide, decideItem, schedule, shedDecision, shedSpellFor, type Failure, type JobDecision, type RequestDecision } from './outcome.js';
import { probeError } from './probe.js';

// The one decision, from the raw answer: every answer goes through interpretAnswer (where encoder
// verdicts and network errors map into the outcome model) and then decide(), as in the worker.

/** A preset answering per request (the generic verdict), or per item when `perItem` says so. */
function encoder(perItem?: Array<'done' | 'retry' | 'failed'>): SiemEncoder {
  return {
    id: 'custom',
    maxBatchEvents: 100,
    maxBatchBytes: 1_000_000,
    gzip: false,
    encode: (events) => ({ body: JSON.stringify(events), contentType: 'application/json', headers: {}, eventIds: events.map((e) => e.event.id) }),
    interpret: (response) =>
      perItem
        ? { kind: 'per_item', items: perItem.map((outcome) => ({ outcome, error: `item ${outcome}` })) }
        : wholeVerdict('Test SIEM', response, () => undefined),
  };
}

const response = (status: number, headers: Record<string, string> = {}, body = ''): OutboundResult => ({
  kind: 'response',
  status,
  headers,
  body,
  durationMs: 7,
});
const network = (failure: NetworkFailure, message = 'boom'): OutboundResult => ({ kind: 'network', failure, message, host: 'siem.example.com', durationMs: 3 });
const events = (n: number): SiemEvent[] => Array.from({ length: n }, (_, i) => sampleEvent(i));

function decideAnswer(result: OutboundResult, n: number, opts: { perItem?: Array<'done' | 'retry' | 'failed'>; ack?: boolean } = {}): RequestDecision {
  const out = interpretAnswer(result, encoder(opts.perItem), events(n), opts.ack ?? false);
  return decide(out, n, opts.ack ?? false);
}

const retry = (statusCode: number | null, error: RegExp, retryAfterMs?: number) => ({
  outcome: 'retry',
  statusCode,
  error: expect.stringMatching(error) as unknown,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

describe('decide: what a request means for its jobs and the destination', () => {
  it.each([
    [
      '2xx delivers every event and closes the breaker',
      response(202),
      2,
      { kind: 'settle', delivered: 2, throttle: false, breaker: 'success', jobs: [{ outcome: 'done' }, { outcome: 'done' }] },
    ],
    [
      '401 is a retried attempt (4xx is not permanent) counted by the breaker',
      response(401),
      1,
      { kind: 'settle', delivered: 0, throttle: false, breaker: 'failure', jobs: [retry(401, /^HTTP 401: /)] },
    ],
    ['400 is retried, not dead-lettered', response(400, {}, 'bad'), 1, { kind: 'settle', breaker: 'failure', jobs: [retry(400, /^HTTP 400: /)] }],
    ['401 ignores Retry-After', response(401, { 'retry-after': '30' }), 1, { kind: 'settle', jobs: [retry(401, /^HTTP 401/)] }],
    [
      '503 with Retry-After is a failed attempt not retried before it, and lowers the limits',
      response(503, { 'retry-after': '30' }),
      1,
      { kind: 'settle', throttle: true, retryAfterMs: 30_000, breaker: 'failure', jobs: [retry(503, /^HTTP 503/, 30_000)] },
    ],
    [
      '503 without Retry-After does not lower the limits',
      response(503),
      1,
      { kind: 'settle', throttle: false, breaker: 'failure', jobs: [retry(503, /^HTTP 503/)] },
    ],
    [
      '500 with Retry-After waits for it but does not lower the limits',
      response(500, { 'retry-after': '30' }),
      1,
      { kind: 'settle', throttle: false, retryAfterMs: 30_000, jobs: [retry(500, /^HTTP 500/, 30_000)] },
    ],
    ['429 gives the jobs back without an attempt, after Retry-After', response(429, { 'retry-after': '10' }), 3, { kind: 'give_back', retryAfterMs: 10_000 }],
    ['429 without Retry-After is given back too', response(429), 1, { kind: 'give_back' }],
    ['413 for several events splits them', response(413), 3, { kind: 'split' }],
    ['413 for one event is a retried attempt', response(413), 1, { kind: 'settle', breaker: 'failure', jobs: [retry(413, /^HTTP 413/)] }],
    [
      'a TLS failure is a retried attempt with no status',
      network('tls'),
      1,
      { kind: 'settle', breaker: 'failure', jobs: [retry(null, /^TLS handshake failed/)] },
    ],
    ['a timeout is a retried attempt', network('timeout'), 2, { kind: 'settle', breaker: 'failure', jobs: [retry(null, /^Timeout/), retry(null, /^Timeout/)] }],
    [
      'a forbidden address is a retried attempt too (the schedule ends it), with its security reason',
      network('forbidden_address', 'resolves to 10.0.0.5'),
      1,
      { kind: 'settle', breaker: 'failure', jobs: [retry(null, /private\/loopback address, which is refused/)] },
    ],
  ] as const)('%s', (_name, result, n, expected) => {
    expect(decideAnswer(result, n)).toMatchObject(expected);
  });

  it('per item: done is delivered, failed is dead-lettered at once, retry is retried, all with the request status', () => {
    const d = decideAnswer(response(200), 3, { perItem: ['done', 'failed', 'retry'] });
    expect(d).toEqual({
      kind: 'settle',
      delivered: 1,
      throttle: false,
      breaker: 'success',
      jobs: [{ outcome: 'done' }, { outcome: 'failed', error: 'item failed', statusCode: 200 }, { outcome: 'retry', error: 'item retry', statusCode: 200 }],
    });
  });

  it('per item with nothing delivered counts for the breaker', () => {
    expect(decideAnswer(response(200), 2, { perItem: ['failed', 'failed'] })).toMatchObject({ kind: 'settle', delivered: 0, breaker: 'failure' });
  });

  it('a 2xx under indexer acknowledgement with an ackId awaits the ack; without one it is delivered', () => {
    expect(decideAnswer(response(200, {}, '{"text":"Success","code":0,"ackId":7}'), 2, { ack: true })).toEqual({ kind: 'await_ack' });
    expect(decideAnswer(response(200, {}, '{"text":"Success","code":0}'), 2, { ack: true })).toMatchObject({ kind: 'settle', delivered: 2 });
    expect(decideAnswer(response(200, {}, '{"ackId":7}'), 2, { ack: false })).toMatchObject({ kind: 'settle', delivered: 2 });
  });
});

describe('interpretAnswer: the words of a refused 2xx', () => {
  it("keeps the encoder's own reason for an Elastic answer it cannot read in full", () => {
    const cut = `{"took":3,"errors":true,"items":[{"index":{"_id":"a","status":400,"error":{"type":"mapper_parsing_exception","reason":"${'x'.repeat(200)}`;
    const out = interpretAnswer(response(200, { 'content-type': 'application/json' }, cut), getEncoder('elastic'), events(2), false);
    expect(out.error).toMatch(/^HTTP 200: Elasticsearch accepted the request but its per-item answer could not be read in full; Aegis will retry\.$/);
    expect(out.items).toHaveLength(2);
    expect(out.items.every((i) => !i.ok && !i.permanent && i.reason === out.error)).toBe(true);
  });
});

// Elastic's _bulk answers 200 with a 429 per item when the cluster sheds load (es_rejected_execution_exception:
// its write queue is full). Like a request-level 429 that is pacing, not failing: those items spend no
// attempt and the destination's limits are lowered (SIEM-FORMATS.md: retry only the items that failed).
describe('Elastic items refused with 429', () => {
  const rejected = { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' };
  const breaker = { type: 'circuit_breaking_exception', reason: '[parent] Data too large' };
  /** A _bulk answer with one item per event, of these statuses (and errors). */
  const bulk = (items: Array<[number, Record<string, string>?]>) => {
    const evs = events(items.length);
    const body = JSON.stringify({
      took: 2,
      errors: true,
      items: items.map(([status, error], i) => ({ create: { _id: evs[i]!.event.id, status, ...(error ? { error } : {}) } })),
    });
    const out = interpretAnswer(response(200, { 'content-type': 'application/json' }, body), getEncoder('elastic'), evs, false);
    return { out, decision: decide(out, evs.length, false) };
  };

  it('every item shed for load, nothing delivered: given back without an attempt, like a request-level 429', () => {
    const { out, decision } = bulk([[429, rejected], [429], [429, rejected]]);
    expect(out.items.every((i) => !i.ok && i.throttled === true && !i.permanent)).toBe(true);
    expect(decision).toEqual({ kind: 'give_back' });
  });

  it('mixed: the shed items are given back, the others settle as ever, and the limits stand (the SIEM took some)', () => {
    const { decision } = bulk([[201], [429, rejected], [400, { type: 'mapper_parsing_exception', reason: 'x' }], [503, { type: 'exception', reason: 'y' }]]);
    expect(decision).toMatchObject({
      kind: 'settle',
      delivered: 1,
      throttle: false,
      breaker: 'success',
      jobs: [{ outcome: 'done' }, { outcome: 'give_back' }, { outcome: 'failed', statusCode: 200 }, { outcome: 'retry', statusCode: 200 }],
    });
  });

  it('shed items next to deliveries only: given back, nothing retried, limits stand', () => {
    // One document shed each time must not halve the rate each time: only a request the SIEM took
    // none of lowers the limits.
    expect(bulk([[201], [429, rejected], [201]]).decision).toMatchObject({
      kind: 'settle',
      delivered: 2,
      throttle: false,
      breaker: 'success',
      jobs: [{ outcome: 'done' }, { outcome: 'give_back' }, { outcome: 'done' }],
    });
  });

  it("a circuit breaker's 429 spends an attempt (it may be the document itself) but still lowers the limits", () => {
    const { out, decision } = bulk([[429, breaker]]);
    expect(out.items[0]).toMatchObject({ ok: false, permanent: false, slowDown: true });
    expect(out.items[0]).not.toHaveProperty('throttled');
    expect(decision).toMatchObject({ kind: 'settle', throttle: true, breaker: 'failure', jobs: [retry(200, /circuit_breaking_exception/)] });
    // Next to an item shed for load, it is not given back with it: one attempt spent, one given back.
    expect(
      bulk([
        [429, rejected],
        [429, breaker],
      ]).decision,
    ).toMatchObject({
      kind: 'settle',
      delivered: 0,
      throttle: true,
      jobs: [{ outcome: 'give_back' }, { outcome: 'retry' }],
    });
  });

  it('a shed event goes back without an attempt only while its job is younger than the pacing window', () => {
    const { out } = bulk([[429, rejected]]);
    const shed = out.items[0] as Failure;
    expect(shedDecision(shed, 899_999, 900_000)).toEqual({ outcome: 'give_back' });
    // Older: an ordinary failed attempt, so a document shed every time ends as a dead letter.
    expect(shedDecision(shed, 900_000, 900_000)).toEqual(retry(200, /es_rejected_execution_exception/));
    expect(shedDecision(shed, 0, 0)).toMatchObject({ outcome: 'retry' });
  });

  it('a spell of sheds runs from its first shed while the job is claimed when due, and ends with a gap longer than the window', () => {
    const at = (s: number) => new Date(1_000_000_000_000 + s * 1000);
    const job = (claimed: number, since: number | null, due: number | null) => ({
      claimedAt: at(claimed),
      shedSince: since === null ? null : at(since),
      shedDueAt: due === null ? null : at(due),
    });
    expect(shedSpellFor(job(100, null, null), 900_000)).toBe(0);
    // Claimed as soon as due after each shed (Aegis's own waits): the spell goes on.
    expect(shedSpellFor(job(1000, 0, 990), 900_000)).toBe(1_000_000);
    // Claimed long after it was due (a pause, an outage, other failures): a new spell.
    expect(shedSpellFor(job(2000, 0, 1000), 900_000)).toBe(0);
    expect(shedSpellFor(job(1900, 0, 1000), 900_000)).toBe(1_900_000);
  });

  it('other item failures do not lower the limits', () => {
    expect(bulk([[201], [503, { type: 'exception', reason: 'y' }]]).decision).toMatchObject({ kind: 'settle', throttle: false });
  });

  it('the probe (Save & test) tells the user to wait, as for a request-level 429', () => {
    const { out, decision } = bulk([[429, rejected]]);
    const text = probeError(out.error!, decision);
    expect(text).toMatch(/es_rejected_execution_exception/);
    expect(text).toMatch(/wait a minute .* try the test again later\.$/);
    expect(text).not.toMatch(/Aegis will retry/);
  });
});

describe('decideItem: one event with no request of its own', () => {
  it.each([
    [{ ok: true } as const, { outcome: 'done' }],
    [
      { ok: false, stage: 'before_send', reason: 'too large', statusCode: null, permanent: true } as const,
      { outcome: 'failed', error: 'too large', statusCode: null },
    ],
    [
      { ok: false, stage: 'item', reason: 'not acknowledged', statusCode: null, permanent: false } as const,
      { outcome: 'retry', error: 'not acknowledged', statusCode: null },
    ],
    [
      { ok: false, stage: 'http', reason: 'busy', statusCode: 503, permanent: false, retryAfterMs: 5_000 } as const,
      { outcome: 'retry', error: 'busy', statusCode: 503, retryAfterMs: 5_000 },
    ],
    [
      { ok: false, stage: 'http', reason: 'busy', statusCode: 503, permanent: false, retryAfterMs: 0 } as const,
      { outcome: 'retry', error: 'busy', statusCode: 503 },
    ],
  ])('%j -> %j', (outcome, expected) => {
    expect(decideItem(outcome)).toEqual(expected);
  });
});

describe('schedule: done, retry after a delay, or dead letter', () => {
  const delays = [10, 60, 300];
  const retry = (retryAfterMs?: number): JobDecision => ({ outcome: 'retry', error: 'HTTP 503', statusCode: 503, ...(retryAfterMs ? { retryAfterMs } : {}) });

  it.each([
    // attempts before, random, Retry-After → delay (ms): delay[attempts] jittered by 0.9 + 0.2 r
    { attempts: 0, random: 0, retryAfterMs: undefined, delayMs: 9_000 },
    { attempts: 0, random: 0.5, retryAfterMs: undefined, delayMs: 10_000 },
    { attempts: 1, random: 0.25, retryAfterMs: undefined, delayMs: 57_000 },
    { attempts: 2, random: 0.75, retryAfterMs: undefined, delayMs: 315_000 },
    // Retry-After is a floor: longer than the jittered delay it wins, shorter it changes nothing.
    { attempts: 0, random: 0.5, retryAfterMs: 45_000, delayMs: 45_000 },
    { attempts: 1, random: 0.5, retryAfterMs: 2_000, delayMs: 60_000 },
  ])('attempt $attempts, random $random, Retry-After $retryAfterMs: retried after $delayMs ms', ({ attempts, random, retryAfterMs, delayMs }) => {
    const s = schedule(retry(retryAfterMs), attempts, delays, random);
    expect(s).toEqual({ outcome: 'retry', error: 'HTTP 503', statusCode: 503, delayMs: expect.any(Number) as number });
    expect((s as { delayMs: number }).delayMs).toBeCloseTo(delayMs, 6);
  });

  it('keeps every delay within ±10 % of the scheduled one', () => {
    for (const [attempts, d] of delays.entries()) {
      for (const random of [0, 0.1, 0.37, 0.5, 0.82, 0.999999]) {
        const s = schedule(retry(), attempts, delays, random);
        if (s.outcome !== 'retry') throw new Error(`expected a retry, got ${s.outcome}`);
        expect(s.delayMs).toBeGreaterThanOrEqual(d * 900);
        expect(s.delayMs).toBeLessThan(d * 1100);
      }
    }
  });

  it.each([
    { attempts: 3, retryAfterMs: undefined },
    { attempts: 7, retryAfterMs: undefined },
    // Retry-After does not extend the schedule.
    { attempts: 3, retryAfterMs: 5_000 },
  ])('past the schedule (attempt $attempts of 3 delays) a failed attempt is dead-lettered with its error', ({ attempts, retryAfterMs }) => {
    expect(schedule(retry(retryAfterMs), attempts, delays, 0.5)).toEqual({
      outcome: 'failed',
      error: `HTTP 503. Dead-lettered after ${attempts + 1} attempts: fix the destination, then replay its failed events.`,
      statusCode: 503,
      outOfRetries: true,
    });
  });

  it('with no delays configured the first failure is dead-lettered', () => {
    expect(schedule(retry(), 0, [], 0.5)).toEqual({
      outcome: 'failed',
      error: 'HTTP 503. Dead-lettered after 1 attempt: fix the destination, then replay its failed events.',
      statusCode: 503,
      outOfRetries: true,
    });
  });

  // The product page: a dead-lettered event is surfaced through last_error, which must not still
  // promise a retry that will never come.
  it.each([
    ['HTTP 500: The SIEM had a server error; Aegis will retry.', 'HTTP 500: The SIEM had a server error'],
    ['HTTP 429: Rate limited by the SIEM; Aegis will retry later, honouring Retry-After.', 'HTTP 429: Rate limited by the SIEM'],
    [
      "Connection refused: nothing is listening at example.com on that port — check the URL's port; Aegis will retry.",
      "Connection refused: nothing is listening at example.com on that port — check the URL's port",
    ],
    [
      "HTTP 401: Authentication failed — check the token hasn't been revoked and carries the required prefix.",
      "HTTP 401: Authentication failed — check the token hasn't been revoked and carries the required prefix",
    ],
  ])('a dead letter of %j no longer promises a retry', (error, cause) => {
    const failing: JobDecision = { outcome: 'retry', error, statusCode: null };
    const s = schedule(failing, 3, delays, 0.5);
    expect(s).toEqual({
      outcome: 'failed',
      error: `${cause}. Dead-lettered after 4 attempts: fix the destination, then replay its failed events.`,
      statusCode: null,
      outOfRetries: true,
    });
    expect(s.outcome === 'failed' && s.error).not.toMatch(/will retry/i);
  });

  it('a permanent failure is dead-lettered at once, whatever remains of the schedule; a delivery is done', () => {
    const permanent = decideItem({ ok: false, stage: 'item', reason: 'item rejected', statusCode: 400, permanent: true });
    expect(schedule(permanent, 0, delays, 0.5)).toEqual({ outcome: 'failed', error: 'item rejected', statusCode: 400 });
    expect(schedule(decideItem({ ok: true }), 0, delays, 0.5)).toEqual({ outcome: 'done' });
  });
});

// Every retried failure a preset can describe, once out of attempts: the dead letter's text (on the
// job and on the destination) must not still promise a retry in that preset's own words.
describe('dead letters of every preset no longer promise a retry', () => {
  const splunkBody = (code: number) => JSON.stringify({ text: 'x', code });
  const elasticCut = '{"took":3,"errors":true,"items":[{"index":{"_id":"a","status":400';
  const elasticMismatch = JSON.stringify({ took: 3, errors: true, items: [{ index: { _id: 'other', status: 400 } }] });
  const answers: OutboundResult[] = [
    response(408),
    response(429),
    response(429, { 'retry-after': '3' }),
    response(500),
    response(503),
    response(503, { 'retry-after': '3' }),
    response(500, { 'content-type': 'application/json' }, splunkBody(8)),
    response(503, { 'content-type': 'application/json' }, splunkBody(9)),
    response(200, { 'content-type': 'application/json' }, elasticCut),
    response(200, { 'content-type': 'application/json' }, elasticMismatch),
    network('timeout'),
    network('refused'),
    network('reset'),
  ];
  const cases = SIEM_IDS.flatMap((id) => answers.map((a, i) => [id, i, a] as const));
  it.each(cases)('%s, answer %i', (id, _i, answer) => {
    const out = interpretAnswer(answer, getEncoder(id), events(2), false);
    for (const item of out.items) {
      if (item.ok || item.permanent) continue;
      const s = schedule({ outcome: 'retry', error: item.reason, statusCode: out.statusCode }, 3, [60, 120, 240], 0.5);
      expect(s.outcome).toBe('failed');
      const error = s.outcome === 'failed' ? s.error : '';
      expect(error).toMatch(/Dead-lettered after 4 attempts/);
      expect(error.replace(/Dead-lettered after 4 attempts: fix the destination, then replay its failed events\.$/, '')).not.toMatch(/retr|sent again/i);
    }
  });

  it("Splunk's unconfirmed request (indexer acknowledgement) too", () => {
    // The ack tracker's two texts (delivery/ackTracker.ts), as the worker settles them.
    for (const text of [ACK_TIMEOUT_ERROR(300, ' (last poll: HTTP 503)'), ACK_REUSED_ERROR]) {
      const s = schedule({ outcome: 'retry', error: text, statusCode: null }, 3, [60, 120, 240], 0.5);
      expect(s.outcome === 'failed' && s.error.replace(/Dead-lettered after 4 attempts: .*$/, '')).not.toMatch(/retr|sent again/i);
    }
  });
});

describe('under Splunk indexer acknowledgement, only a `true` confirms an event', () => {
  it('events accepted within a request refused in part (400 code 6 before invalid-event-number) are retried, not delivered', () => {
    const d = decideAnswer(response(400), 3, { perItem: ['done', 'failed', 'retry'], ack: true });
    expect(d).toMatchObject({ kind: 'settle', delivered: 0, breaker: 'failure' });
    const jobs = d.kind === 'settle' ? d.jobs : [];
    expect(jobs.map((j) => j.outcome)).toEqual(['retry', 'failed', 'retry']);
    expect(jobs[0]).toMatchObject({ outcome: 'retry', error: expect.stringMatching(/indexer acknowledgement.*; Aegis will retry\.$/) as unknown });
    // Without acknowledgement the same answer delivers the accepted ones, as the contract has it.
    expect(decideAnswer(response(400), 3, { perItem: ['done', 'failed', 'retry'], ack: false })).toMatchObject({ delivered: 1 });
  });
});
