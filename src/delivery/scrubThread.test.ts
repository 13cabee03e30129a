import { describe, expect, it } from 'vitest';
import { echoedForms, leakScanner } from '../../test/support/secretForms.js';
import { FairThread } from '../threads/fairThread.js';
import { scrubResult } from './outbound/credentialScrub.js';
import type { ResponseResult } from './outbound/types.js';
import { scrubberFor } from './scrubberCache.js';
import { replyError, runScrubJob, type ScrubFailure, type ScrubJob } from './scrubJobs.js';
import { OFFLOAD_MIN_SCRUB_CHARS, scrubAnswer, scrubTexts, type ScrubPlace } from './scrubThread.js';
import { LOOP_BUDGET_MS, LOOP_BUDGET_ORGS, LOOP_CEILING_MS, LoopBudget, THREAD_TRIP_MS } from '../threads/loopBudget.js';

const SECRET = 'ApiKey Zk9xN2Q0cVp3ZXJ0eTEyMzQ1Njc4OTA6c2VjcmV0LXZhbHVlLTk5';
const OWNER = { orgId: 'org_a', destinationId: 'dst_scrub_thread', secrets: [SECRET, null] };
const scrub = scrubberFor(OWNER.destinationId, OWNER.secrets);

/**
 * A clock that moves `stepMs` each time it is read: a scrub on the loop (two reads) then costs
 * exactly `stepMs` of the budget, whatever the machine's speed.
 */
function steppingClock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

/** A thread of the test's own and a budget on `clock`, closed after `fn` whatever happens. */
async function withPlace(fn: (place: ScrubPlace) => Promise<void>, clock: () => number = () => stillClock): Promise<void> {
  const thread = new FairThread<ScrubJob, ScrubFailure>({
    name: 'the test scrub thread',
    moduleUrl: new URL('./scrubJobs.ts', import.meta.url).href,
    runHere: runScrubJob,
    replyError,
  });
  try {
    await fn({ thread, budget: new LoopBudget(clock) });
  } finally {
    await thread.close();
  }
}

/** The clock of withPlace's budgets unless a test gives one: it moves only when a scrub of costing() runs. */
let stillClock = 0;

/** scrub, costing `ms` of withPlace's default clock each time it runs (on the loop, or here for the test's thread's fallback). */
function costing(ms: number): typeof scrub {
  return (text, cut) => {
    stillClock += ms;
    return scrub(text, cut);
  };
}

/** A SIEM's answer of at least `chars` characters that echoes the secret in every spelling, over and over. */
function echoingAnswer(chars: number): ResponseResult {
  const forms = Object.values(echoedForms(SECRET));
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const part = `{"pad":"${'%25'.repeat(200)}","reason":"refused ${forms[i % forms.length]} (#${i})"},`;
    parts.push(part);
    length += part.length;
  }
  return {
    kind: 'response',
    status: 200,
    headers: { 'content-type': 'application/json', 'x-echo': SECRET },
    body: `{"errors":true,"items":[${parts.join('')}{}]}`,
    durationMs: 3,
  };
}

// A SIEM may answer a 2xx with up to a megabyte (an Elastic _bulk answer's per-item verdicts): its
// scrub is tenths of a second of work, done on a thread so the worker's event loop, which delivers
// every organization's events, is not held by one organization's answers.
describe('large answers scrubbed on the scrub thread', () => {
  it('gives exactly the text the event loop would, with no spelling of the secret left, answered by the thread', () =>
    withPlace(async (place) => {
      const answer = echoingAnswer(256 * 1024);
      const scrubbed = await scrubAnswer(answer, scrub, OWNER, place);
      expect(scrubbed).toEqual(scrubResult(answer, scrub));
      expect(place.thread.answeredOnThread).toBe(1);
      if (scrubbed.kind !== 'response') throw new Error('a response was expected');
      expect(scrubbed.body.length).toBeGreaterThan(OFFLOAD_MIN_SCRUB_CHARS);
      expect(scrubbed.headers['x-echo']).toBe('[redacted]');
      expect(leakScanner(JSON.stringify(scrubbed))(SECRET)).toBeNull();
    }));

  it('scrubs a body cut at its cap as cut text: no start of the secret is left at its end', () =>
    withPlace(async (place) => {
      const whole = echoingAnswer(OFFLOAD_MIN_SCRUB_CHARS * 2);
      const answer: ResponseResult = { ...whole, body: `${whole.body.slice(0, whole.body.length - 20)}${SECRET.slice(0, 30)}`, truncated: true };
      const scrubbed = await scrubAnswer(answer, scrub, OWNER, place);
      expect(scrubbed).toEqual(scrubResult(answer, scrub));
      expect(place.thread.answeredOnThread).toBe(1);
      if (scrubbed.kind !== 'response') throw new Error('a response was expected');
      expect(scrubbed.body).not.toContain(SECRET.slice(7, 30));
    }));

  it('scrubs a short answer and a network error where it is asked, without the thread', () =>
    withPlace(async (place) => {
      const short: ResponseResult = { kind: 'response', status: 400, headers: { 'x-echo': SECRET }, body: `{"error":"${SECRET}"}`, durationMs: 1 };
      expect(await scrubAnswer(short, scrub, OWNER, place)).toEqual(scrubResult(short, scrub));
      const network = { kind: 'network' as const, failure: 'reset' as const, message: `socket hang up ${SECRET}`, durationMs: 1 };
      expect(await scrubAnswer(network, scrub, OWNER, place)).toEqual(scrubResult(network, scrub));
      expect(place.thread.answeredOnThread).toBe(0);
    }));

  it('counts every text of one scrub: a thousand refused reasons, each short, go to the thread together', () =>
    withPlace(async (place) => {
      const reasons = Array.from({ length: 1000 }, (_, i) => ({ text: `item ${i} refused: ${'%25'.repeat(30)} ${SECRET}`, cut: false }));
      const scrubbed = await scrubTexts(reasons, scrub, OWNER, place);
      expect(scrubbed).toEqual(reasons.map((r) => scrub(r.text)));
      expect(scrubbed.every((t) => t.endsWith('[redacted]'))).toBe(true);
      expect(place.thread.answeredOnThread).toBe(1);
      // The same reason a thousand times is one short scrub, done where it is asked.
      const same = Array.from({ length: 1000 }, () => ({ text: `refused: ${SECRET}`, cut: false }));
      expect(await scrubTexts(same, scrub, OWNER, place)).toEqual(same.map((r) => scrub(r.text)));
      expect(place.thread.answeredOnThread).toBe(1);
    }));

  it('sends every scrub of an organization that used up its share of the loop to the thread; another organization stays on the loop', () =>
    // Each scrub on the loop costs LOOP_BUDGET_MS / 4 of the stepping clock.
    withPlace(
      async (place) => {
        const short = [{ text: `{"error":"${SECRET}"}`, cut: false }];
        for (let i = 0; i < 5; i++) expect(await scrubTexts(short, scrub, OWNER, place)).toEqual([scrub(short[0]!.text)]);
        expect(place.thread.answeredOnThread).toBe(0);
        expect(await scrubTexts(short, scrub, OWNER, place)).toEqual([scrub(short[0]!.text)]);
        expect(place.thread.answeredOnThread).toBe(1);
        // Nothing to scrub (a delivery with no refused item) is no job, even now.
        expect(await scrubTexts([], scrub, OWNER, place)).toEqual([]);
        expect(place.thread.answeredOnThread).toBe(1);
        const other = { ...OWNER, orgId: 'org_b' };
        expect(await scrubTexts(short, scrub, other, place)).toEqual([scrub(short[0]!.text)]);
        expect(place.thread.answeredOnThread).toBe(1);
      },
      steppingClock(LOOP_BUDGET_MS / 4),
    ));

  it('keeps an organization’s cheap scrubs on the loop though it used up its share: each would cost more on the thread', () =>
    // A drain of a fast SIEM: thousands of short answers a second, each cheap to scrub, add up to more
    // than the share. A trip to the thread costs more than such a scrub (posting the texts and the
    // secrets, the answer's message, the promise), so sending them there would cost the loop more.
    withPlace(async (place) => {
      const short = [{ text: `{"ok":true,"echo":"${SECRET}"}`, cut: false }];
      const cheap = costing(THREAD_TRIP_MS / 4);
      while (!place.budget.over(OWNER.orgId)) await scrubTexts(short, cheap, OWNER, place);
      for (let i = 0; i < 100; i++) expect(await scrubTexts(short, cheap, OWNER, place)).toEqual([scrub(short[0]!.text)]);
      expect(place.thread.answeredOnThread).toBe(0);
      expect(place.budget.over(OWNER.orgId)).toBe(true);
    }));

  it('sends an organization’s slow scrubs to the thread once over its share, the short ones too', () =>
    withPlace(async (place) => {
      const short = [{ text: `{"error":"${SECRET}"}`, cut: false }];
      const slow = costing(THREAD_TRIP_MS * 2);
      while (!place.budget.over(OWNER.orgId)) await scrubTexts(short, slow, OWNER, place);
      for (let i = 0; i < 10; i++) expect(await scrubTexts(short, slow, OWNER, place)).toEqual([scrub(short[0]!.text)]);
      expect(place.thread.answeredOnThread).toBe(10);
    }));

  it('is not led by answers padded with cheap text to keep slow ones on the loop', () =>
    withPlace(async (place) => {
      // A hostile SIEM alternates answers scrubbed at 1.5 µs a character
      // with long ones of cheap text, whose characters would make its cost per character look tiny.
      const slowText = [{ text: `{"error":"${SECRET}","pad":"${'%'.repeat(300)}"}`, cut: false }];
      const padded = [{ text: `{"ok":"${'a'.repeat(7000)}"}`, cut: false }];
      const slow = costing((slowText[0]!.text.length * 1.5) / 1000);
      const cheap = costing((padded[0]!.text.length * 0.005) / 1000);
      // Its best opening: the share used up by cheap text alone, so its cost per character starts tiny.
      while (!place.budget.over(OWNER.orgId)) await scrubTexts(padded, cheap, OWNER, place);
      const before = stillClock;
      const rounds = 400;
      for (let i = 0; i < rounds; i++) {
        await scrubTexts(slowText, slow, OWNER, place);
        await scrubTexts(padded, cheap, OWNER, place);
      }
      // What the loop spent per answer, on average: a few trips' worth at most, never the slow scrubs'.
      expect((stillClock - before) / (2 * rounds)).toBeLessThan(3 * THREAD_TRIP_MS);
    }));

  it('holds no burst of slow scrubs on the loop after thousands of cheap answers made its rate tiny', () =>
    withPlace(async (place) => {
      // A hostile SIEM: thousands of cheap 1 KiB answers make the organization's cost per character
      // tiny, then each slow answer (cut, for a destination with many secrets: 9 µs a character) is
      // sized just under what that rate lets stay on the loop.
      const cheapText = [{ text: `{"ok":"${'a'.repeat(1010)}"}`, cut: false }];
      const cheap = costing(0.0007);
      while (!place.budget.over(OWNER.orgId)) await scrubTexts(cheapText, cheap, OWNER, place);
      const slowCost = 0.009;
      let onLoop = 0;
      let largest = 0;
      for (let i = 0; i < 200; i++) {
        const spent = (place.budget as unknown as { spent: { peek(k: string): { ms: number; chars: number } } }).spent.peek(OWNER.orgId);
        const chars = Math.max(1, Math.min(OFFLOAD_MIN_SCRUB_CHARS - 1, Math.floor((THREAD_TRIP_MS * spent.chars) / spent.ms) - 1));
        const before = stillClock;
        await scrubTexts([{ text: 'x'.repeat(chars), cut: true }], costing(chars * slowCost), OWNER, place);
        onLoop += stillClock - before;
        largest = Math.max(largest, stillClock - before);
      }
      // Up to the ceiling, and the one scrub that crossed it (of 1,024 characters at most, so a few ms):
      // then every scrub goes to the thread.
      expect(largest).toBeLessThanOrEqual(1024 * slowCost);
      expect(onLoop).toBeLessThanOrEqual(LOOP_CEILING_MS + largest);
      expect(place.thread.answeredOnThread).toBeGreaterThan(0);
    }));

  it('still scrubs every large answer when the thread is closed (on the event loop instead)', () =>
    withPlace(async (place) => {
      await place.thread.close();
      const answer = echoingAnswer(OFFLOAD_MIN_SCRUB_CHARS);
      expect(await scrubAnswer(answer, scrub, OWNER, place)).toEqual(scrubResult(answer, scrub));
      expect(place.thread.answeredOnThread).toBe(0);
    }));
});

describe('the loop budget', () => {
  it('forgets an organization’s cost by half each second', () => {
    let now = 0;
    const budget = new LoopBudget(() => now);
    budget.charge('org_a', 100, () => (now += LOOP_BUDGET_MS * 1.5));
    expect(budget.over('org_a')).toBe(true);
    now += 1000;
    expect(budget.over('org_a')).toBe(false);
    expect(budget.over('org_b')).toBe(false);
  });

  it('remembers the organizations that scrubbed last, a bounded number, one forgotten per charge', () => {
    let now = 0;
    const budget = new LoopBudget(() => now);
    // Every organization over its share at once: none has decayed, yet only the last ones are kept.
    for (let i = 0; i <= LOOP_BUDGET_ORGS; i++) {
      now = 0;
      budget.charge(`org_${i}`, 100, () => (now = LOOP_BUDGET_MS * 2));
    }
    expect(budget.over('org_0')).toBe(false);
    expect(budget.over('org_1')).toBe(true);
    expect(budget.over(`org_${LOOP_BUDGET_ORGS}`)).toBe(true);
  });
});
