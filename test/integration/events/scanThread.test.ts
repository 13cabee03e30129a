import { describe, expect, it } from 'vitest';
import { detectAndMask } from '../../../src/events/mask.js';
import { OFFLOAD_MIN_CHARS, OFFLOAD_MIN_RECORDS, ScanThread } from '../../../src/events/scanThread.js';
import { agentEvents } from '../../../src/events/agentEvents.js';
import { LOOP_BUDGET_MS, LoopBudget } from '../../../src/threads/loopBudget.js';
import { AppError } from '../../../src/errors.js';
import { agentRecord } from './support.js';
import { DB_KINDS } from '../../support/db.js';
import { serviceWithOrg } from '../../support/serviceWithOrg.js';

/** A long text with values of several kinds, repeated (and each copy a little different) past `chars`. */
function longText(chars: number, seed: number): string {
  const parts: string[] = [];
  let n = seed;
  let length = 0;
  while (length < chars) {
    const line = `line ${n}: mail jane.${n}@example.com, call +1 415 555 ${String(1000 + (n % 9000))}, key AKIAIOSFODNN7EXAMPL${n % 10} and plain words (${n})\n`;
    parts.push(line);
    length += line.length;
    n++;
  }
  return parts.join('');
}

// Long preflight inputs are scanned on a thread of their own, organizations in turn
// (src/events/scanThread.ts), so one organization's large inputs never hold the API's event loop.
/** A scan thread of the test's own (not the process's), closed after `fn` whatever happens. */
async function withThread(fn: (thread: ScanThread) => Promise<void>): Promise<void> {
  const thread = new ScanThread();
  try {
    await fn(thread);
  } finally {
    await thread.close();
  }
}

describe('the scan thread', () => {
  it('scans a long input off the event loop, finding and masking exactly what the event loop would', () =>
    withThread(async (thread) => {
      const input = longText(OFFLOAD_MIN_CHARS * 4, 1);
      const scanning = thread.scan('org_a', input);
      const expected = detectAndMask(input);
      expect(expected.findings.length).toBeGreaterThan(100);
      expect(await scanning).toEqual(expected);
      // Answered by the thread, not by the fallback that scans here when it cannot start.
      expect(thread.scannedOnThread).toBe(1);
    }));

  it('takes the organizations waiting in turn: one with many large inputs holds another for one scan at most', () =>
    withThread(async (thread) => {
      const done: string[] = [];
      const scan = (org: string, name: string, seed: number) => thread.scan(org, longText(OFFLOAD_MIN_CHARS, seed)).then(() => done.push(name));
      await Promise.all([scan('org_a', 'a1', 1), scan('org_a', 'a2', 2), scan('org_a', 'a3', 3), scan('org_b', 'b1', 4), scan('org_c', 'c1', 5)]);
      expect(done).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
    }));

  it('checks a large agent batch off the event loop: the same events, and the same refusal, as the event loop gives', () =>
    withThread(async (thread) => {
      const records = Array.from({ length: OFFLOAD_MIN_RECORDS + 20 }, (_, i) =>
        agentRecord({ preflight_id: `pflt_thread_${String(i).padStart(8, '0')}`, occurred_at: '2026-12-01T10:00:00Z' }),
      );
      const events = await thread.agentEvents('org_a', records, null);
      // Answered by the thread (counted only when it answers), not checked here.
      expect(thread.scannedOnThread).toBe(1);
      const here = agentEvents('org_a', records);
      expect(events.map((e) => [e.id, e.occurredAt.toISOString(), JSON.stringify(e.payload)])).toEqual(
        here.map((e) => [e.id, e.occurredAt.toISOString(), JSON.stringify(e.payload)]),
      );
      // A raw address in a field the privacy guard keeps free of one: refused, naming the record, as here.
      records[7] = { ...records[7], summary: 'Sent to victim@corp-mail.example; masked.' };
      const refused = await thread.agentEvents('org_a', records, null).then(
        () => null,
        (err: unknown) => err,
      );
      const expected = (() => {
        try {
          agentEvents('org_a', records);
        } catch (err) {
          return err;
        }
        return null;
      })();
      expect(expected).toBeInstanceOf(AppError);
      expect(refused).toBeInstanceOf(AppError);
      expect({ ...(refused as AppError), message: (refused as AppError).message }).toEqual({
        ...(expected as AppError),
        message: (expected as AppError).message,
      });
      expect(JSON.stringify((refused as AppError).details)).toContain('/events/7/summary');
      expect(thread.scannedOnThread).toBe(2);
    }));

  it('checks a batch of few records but a large body on the thread too, and an unknown size as large', () =>
    withThread(async (thread) => {
      // One record: what it costs is its size (the privacy guard reads every string; one of 10 MiB took 3 s).
      const one = [agentRecord({ preflight_id: 'pflt_thread_big_0001', summary: 'x'.repeat(400) })];
      for (const bodyBytes of [OFFLOAD_MIN_CHARS, null]) {
        const before = thread.scannedOnThread;
        await expect(thread.agentEvents('org_a', one, bodyBytes)).resolves.toHaveLength(1);
        // Answered by the thread (counted only when it answers), not checked here.
        expect(thread.scannedOnThread).toBe(before + 1);
      }
    }));

  // A review's: inputs just under OFFLOAD_MIN_CHARS of a text slow to scan (100-230 ms each) held
  // another organization's requests 15 times longer. Past its share of the loop, an organization's
  // short inputs go to the thread too; another organization's stay where they are.
  it('sends an organization’s short inputs to the thread once its scans here used up its share of the loop', async () => {
    // Each scan here costs a quarter of the share on this clock (two reads), whatever the machine's speed.
    let t = 0;
    const thread = new ScanThread(new LoopBudget(() => (t += LOOP_BUDGET_MS / 4)));
    try {
      const short = 'pass: hunter2 and mail jane@example.com';
      for (let i = 0; i < 5; i++) await expect(thread.scan('org_a', short)).resolves.toEqual(detectAndMask(short));
      expect(thread.scannedOnThread).toBe(0);
      await expect(thread.scan('org_a', short)).resolves.toEqual(detectAndMask(short));
      expect(thread.scannedOnThread).toBe(1);
      // A small agent batch of that organization too.
      await expect(thread.agentEvents('org_a', [agentRecord({ preflight_id: 'pflt_budget_0001' })], 600)).resolves.toHaveLength(1);
      expect(thread.scannedOnThread).toBe(2);
      await expect(thread.scan('org_b', short)).resolves.toEqual(detectAndMask(short));
      expect(thread.scannedOnThread).toBe(2);
    } finally {
      await thread.close();
    }
  });

  it('a job that cannot be copied to the thread is done here, and the next organization gets its own answer', () =>
    withThread(async (thread) => {
      const records = (org: string) =>
        Array.from({ length: OFFLOAD_MIN_RECORDS }, (_, i) => agentRecord({ preflight_id: `pflt_${org}_${String(i).padStart(10, '0')}` }));
      // A function cannot cross to a thread (no JSON body holds one, but nothing may hang on it).
      const odd = records('oddx');
      odd[0] = { ...odd[0], x: () => 0 };
      const [a, b] = await Promise.allSettled([thread.agentEvents('org_x', odd, null), thread.agentEvents('org_y', records('yyyy'), null)]);
      // Checked here: refused for its unknown field, as the event loop refuses it.
      expect(a.status).toBe('rejected');
      expect((a as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
      expect(b.status).toBe('fulfilled');
      expect((b as PromiseFulfilledResult<Array<{ id: string }>>).value.map((e) => e.id)[0]).toBe('pflt_yyyy_0000000000');
    }));

  it('a thread that ends between jobs is replaced: the next job is answered', () =>
    withThread(async (thread) => {
      await thread.scan('org_a', longText(OFFLOAD_MIN_CHARS, 21));
      // The thread itself, as an out-of-memory end would take it (threads/fairThread.ts holds it).
      const internals = thread as unknown as { thread: { worker: { terminate(): Promise<number> } | null } };
      await internals.thread.worker!.terminate();
      const input = longText(OFFLOAD_MIN_CHARS, 22);
      await expect(thread.scan('org_b', input)).resolves.toEqual(detectAndMask(input));
      expect(thread.scannedOnThread).toBe(2);
    }));

  it('scans a short input where it is asked, and what waits when the thread is closed', async () => {
    const thread = new ScanThread();
    const short = 'mail jane@example.com';
    let settled = false;
    const scanning = thread.scan('org_a', short).finally(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    // Settled without a turn of the event loop: no thread round trip for a short text.
    expect(settled).toBe(true);
    expect(await scanning).toEqual(detectAndMask(short));
    const pending = [thread.scan('org_a', longText(OFFLOAD_MIN_CHARS, 7)), thread.scan('org_b', longText(OFFLOAD_MIN_CHARS, 8))];
    await thread.close();
    expect(await Promise.all(pending)).toEqual([detectAndMask(longText(OFFLOAD_MIN_CHARS, 7)), detectAndMask(longText(OFFLOAD_MIN_CHARS, 8))]);
  });
});

describe.each(DB_KINDS)('a long preflight input through the API (%s)', (kind) => {
  const ctx = serviceWithOrg(kind);

  it('answers the masked input and the counts of the whole text, and records no raw value', async () => {
    const { svc, tdb, org } = ctx;
    const input = longText(OFFLOAD_MIN_CHARS * 2, 11);
    const res = await svc.request('POST', `/api/orgs/${org.orgId}/preflight`, { apiKey: org.apiKey, body: { input } });
    expect(res.status, res.text).toBe(200);
    const expected = detectAndMask(input);
    expect(res.body.masked_input).toBe(expected.masked);
    const emails = expected.findings.filter((f) => f.type === 'EMAIL').length;
    expect(emails).toBeGreaterThan(100);
    expect(res.body.finding_counts_by_type).toMatchObject({ EMAIL: emails });
    const { rows } = await tdb.db.query<{ payload: string }>(`SELECT payload::text AS payload FROM audit_events WHERE org_id = $1`, [org.orgId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).not.toContain('@example.com');
  });
});
