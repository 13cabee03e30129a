import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { CredentialChecks } from './credentialChecks.js';

/** A lookup the test answers when it chooses; `started` counts the lookups begun. */
function heldLookups<T>() {
  const pending: Array<(v: T | null) => void> = [];
  let started = 0;
  return {
    lookup: () =>
      new Promise<T | null>((resolve) => {
        started++;
        pending.push(resolve);
      }),
    started: () => started,
    held: () => pending.length,
    answerAll: (v: T | null) => {
      for (const r of pending.splice(0)) r(v);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const LIMITS = { atOnce: 2, queued: 3, maxWaitMs: 60_000, perSecond: 1_000_000, seenMax: 3, issuedPerOrgMax: 2 };

describe('CredentialChecks', () => {
  it('checks unseen credentials two at a time, queues a few, and refuses the rest with 429', async () => {
    const refused: string[] = [];
    const checks = new CredentialChecks(LIMITS, { refused: (reason) => refused.push(reason) });
    const made = heldLookups<string>();
    const results = Array.from({ length: 8 }, (_, i) => checks.check(`k${i}`, made.lookup).catch((e: unknown) => e));
    await tick();
    expect(made.held()).toBe(2);
    // 2 in the lane and 3 waiting: the other 3 are refused at once.
    const settled = await Promise.all(results.slice(5));
    for (const e of settled) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('rate_limited');
      expect((e as AppError).message).toMatch(/not checked yet.*2 at a time.*Retry after 1 s/);
    }
    expect(refused).toEqual(['queue_full', 'queue_full', 'queue_full']);
    // Every lookup answered "unknown" lets the next two in, never more than two at once.
    while (made.started() < 5) {
      made.answerAll(null);
      await tick();
      expect(made.held()).toBeLessThanOrEqual(2);
    }
    made.answerAll(null);
    expect(await Promise.all(results.slice(0, 5))).toEqual([null, null, null, null, null]);
  });

  it('checks a credential it has accepted at once, however full the lane is, and on every request', async () => {
    const checks = new CredentialChecks(LIMITS);
    let lookups = 0;
    expect(await checks.check('kgood', async () => (lookups++, 'org_a'))).toBe('org_a');
    const flood = heldLookups<string>();
    const floods = Array.from({ length: 4 }, (_, i) => checks.check(`kmade${i}`, flood.lookup));
    await tick();
    expect(flood.held()).toBe(2);
    // The lane is busy (2 checking, 2 waiting), yet the accepted key is looked up again, and answered.
    expect(await checks.check('kgood', async () => (lookups++, 'org_a'))).toBe('org_a');
    expect(lookups).toBe(2);
    // Revoked meanwhile: refused, and back to the lane for its next request.
    expect(await checks.check('kgood', async () => (lookups++, null))).toBeNull();
    const again = checks.check('kgood', async () => (lookups++, 'org_a'));
    await tick();
    expect(lookups).toBe(3); // waiting behind the flood now
    while (flood.started() < 4) {
      flood.answerAll(null);
      await tick();
    }
    flood.answerAll(null);
    await Promise.all(floods);
    expect(await again).toBe('org_a');
    expect(lookups).toBe(4);
  });

  it('shares one check among the requests carrying the same unseen credential at once', async () => {
    const checks = new CredentialChecks(LIMITS);
    const fleet = heldLookups<string>();
    const results = Array.from({ length: 50 }, () => checks.check('kfleet', fleet.lookup));
    await tick();
    expect(fleet.started()).toBe(1);
    fleet.answerAll('org_fleet');
    expect(new Set(await Promise.all(results))).toEqual(new Set(['org_fleet']));
    // Accepted now: the next request is checked at once, with a lookup of its own.
    expect(await checks.check('kfleet', async () => 'org_fleet')).toBe('org_fleet');
  });

  it('shares a refusal too, and a failed lookup is not remembered', async () => {
    const checks = new CredentialChecks(LIMITS);
    const boom = new Error('database away');
    const both = [checks.check('kx', () => Promise.reject(boom)), checks.check('kx', () => Promise.resolve('org_x'))];
    await expect(Promise.all(both)).rejects.toBe(boom);
    // Not accepted: the next request goes through the lane (one lookup, its own).
    const made = heldLookups<string>();
    const next = checks.check('kx', made.lookup);
    await tick();
    expect(made.started()).toBe(1);
    made.answerAll('org_x');
    expect(await next).toBe('org_x');
  });

  it('remembers a bounded number of credentials, the oldest forgotten first', async () => {
    const checks = new CredentialChecks(LIMITS);
    for (const id of ['k1', 'k2', 'k3']) await checks.check(id, async () => 'org');
    await checks.check('k1', async () => 'org'); // used again: still the oldest
    checks.rememberAll(['k4', 'k2']); // over seenMax 3: k1 forgotten; k2 already held
    const flood = heldLookups<string>();
    const floods = Array.from({ length: 5 }, (_, i) => checks.check(`kmade${i}`, flood.lookup));
    await tick();
    let direct = 0;
    for (const id of ['k2', 'k3', 'k4']) await checks.check(id, async () => (direct++, 'org'));
    expect(direct).toBe(3);
    // k1 waits in the lane behind the flood, and the lane is full: refused.
    await expect(checks.check('k1', async () => 'org')).rejects.toMatchObject({ code: 'rate_limited' });
    while (flood.started() < 5) {
      flood.answerAll(null);
      await tick();
    }
    flood.answerAll(null);
    await Promise.all(floods);
  });

  it('looks up a sign-in link it issued at once, holds links apart from keys, and forgets a used one', async () => {
    const checks = new CredentialChecks(LIMITS);
    for (const id of ['k1', 'k2', 'k3']) checks.remember(id);
    // Three links issued to one organization (one over issuedPerOrgMax 2: its oldest goes back to the
    // lane); no key is pushed out, nor another organization's link.
    checks.rememberIssued('l0', 'org_b');
    for (const id of ['l1', 'l2', 'l3']) checks.rememberIssued(id, 'org_a');
    const flood = heldLookups<string>();
    const floods = Array.from({ length: 5 }, (_, i) => checks.check(`kmade${i}`, flood.lookup));
    await tick();
    let direct = 0;
    for (const id of ['k1', 'k2', 'k3']) await checks.check(id, async () => (direct++, 'org'));
    for (const id of ['l0', 'l2', 'l3']) await checks.checkIssued(id, async () => (direct++, 'org'));
    expect(direct).toBe(6);
    // The lane is full: a link not held as issued (the oldest, a made-up one) is refused.
    await expect(checks.checkIssued('l1', async () => 'org')).rejects.toMatchObject({ code: 'rate_limited' });
    // Used: back to the lane with the made-up ones.
    checks.forget('l2');
    await expect(checks.checkIssued('l2', async () => 'org')).rejects.toMatchObject({ code: 'rate_limited' });
    while (flood.started() < 5) {
      flood.answerAll(null);
      await tick();
    }
    flood.answerAll(null);
    await Promise.all(floods);
  });

  it('with perSecond 0 there is no lane: every credential is looked up at once', async () => {
    const checks = new CredentialChecks({ ...LIMITS, perSecond: 0 });
    const made = heldLookups<string>();
    const all = Array.from({ length: 20 }, (_, i) => checks.check(`kmade${i}`, made.lookup));
    const once = checks.checkOnce(made.lookup);
    await tick();
    expect(made.held()).toBe(21);
    made.answerAll(null);
    expect(await Promise.all([...all, once])).toEqual(Array(21).fill(null));
  });

  it('remember() lets a just-issued credential past the lane, forget() sends it back', async () => {
    const checks = new CredentialChecks(LIMITS);
    const flood = heldLookups<string>();
    const floods = Array.from({ length: 5 }, (_, i) => checks.check(`smade${i}`, flood.lookup));
    await tick();
    checks.remember('snew');
    expect(await checks.check('snew', async () => 'org')).toBe('org');
    checks.forget('snew');
    await expect(checks.check('snew', async () => 'org')).rejects.toMatchObject({ code: 'rate_limited' });
    // A one-time token waits in the lane like any unseen credential.
    await expect(checks.checkOnce(async () => 'link')).rejects.toMatchObject({ code: 'rate_limited' });
    while (flood.started() < 5) {
      flood.answerAll(null);
      await tick();
    }
    flood.answerAll(null);
    await Promise.all(floods);
    expect(await checks.checkOnce(async () => 'link')).toBe('link');
  });

  it('starts at most perSecond lookups of unseen credentials a second, and refuses the rest without one', async () => {
    let clock = 0;
    const refused: string[] = [];
    const checks = new CredentialChecks({ ...LIMITS, atOnce: 100, queued: 100, perSecond: 10 }, { refused: (r) => refused.push(r) }, () => clock);
    let lookups = 0;
    const lookup = async () => (lookups++, null);
    const first = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => checks.check(`kmade${i}`, lookup)));
    expect(lookups).toBe(10);
    expect(first.filter((r) => r.status === 'rejected')).toHaveLength(15);
    expect(refused).toEqual(Array(15).fill('rate'));
    const [refusal] = first.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refusal!.reason).toMatchObject({ code: 'rate_limited', details: { retryAfterS: 1 } });
    expect(String(refusal!.reason.message)).toMatch(/at most 10 are checked a second/);
    // Accepted credentials take nothing from the allowance.
    checks.remember('kgood');
    expect(await checks.check('kgood', async () => 'org')).toBe('org');
    // Half a second later, half a second's worth; the allowance never holds more than one second's.
    clock += 500;
    await Promise.allSettled(Array.from({ length: 25 }, (_, i) => checks.check(`kmore${i}`, lookup)));
    expect(lookups).toBe(15);
    clock += 60_000;
    await Promise.allSettled(Array.from({ length: 25 }, (_, i) => checks.check(`klater${i}`, lookup)));
    expect(lookups).toBe(25);
  });
});
