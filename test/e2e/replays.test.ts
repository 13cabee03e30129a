// Issue 12 on the dashboard: "Send history" in the add flow and "Replay a time range" on a card, in
// headless Chromium against the real service and a real HTTPS receiver. The replay batch is small,
// so both windows run as background replays whose progress the page follows to done.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openTestDb, type TestDb } from '../support/db.js';
import { startTestService, type TestService } from '../support/harness.js';
import { ok, startReceiver, type Receiver } from '../support/httpsReceiver.js';
import { eventIdsOf, seedEvents } from '../integration/delivery/support.js';
import { eventAt, holdEvent, type EventGate } from '../support/eventGate.js';
import { card, launchBrowser, openDashboard, screenshot, type Browser } from './support.js';

const HISTORY = 60;

describe('Send history and Replay a time range, in headless Chromium', () => {
  let tdb: TestDb;
  let svc: TestService;
  let browser: Browser;
  let receiver: Receiver;
  let page: Page;
  let orgId: string;
  let apiKey: string;
  let history: string[];
  let pageErrors: string[];
  let gate: EventGate | null = null;

  beforeAll(async () => {
    tdb = await openTestDb('postgres');
    svc = await startTestService(tdb.db, { AEGIS_REPLAY_BATCH: '20', AEGIS_WORKER_INTERVAL_MS: '500' });
    receiver = await startReceiver(ok());
    ({ orgId, apiKey } = await svc.newOrg('Replay org'));
    // Recorded before the destination exists: only a replay can send them.
    history = await seedEvents(tdb.db, orgId, HISTORY);
    browser = await launchBrowser();
    ({ page, pageErrors } = await openDashboard(browser, svc, tdb.db, { orgId, apiKey }));
  });
  afterAll(async () => {
    await gate?.open();
    await browser?.close();
    await receiver?.close();
    await svc?.stop();
    await tdb?.close();
  });

  // A failed step must not leave its dialog over the page for the next test.
  afterEach(async () => {
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  });

  const received = () => new Set(receiver.requests.flatMap(eventIdsOf));

  /**
   * The ids of every recorded event of [from, to) by occurred_at, as a range replay reads them. From the
   * database, not the pull API: the pull shows events only below the oldest open transaction of the
   * whole server (src/events/pull.ts), so on a shared, busy PostgreSQL it may miss recent ones.
   */
  async function recordedIn(from: string, to: string): Promise<string[]> {
    const { rows } = await tdb.db.query<{ id: string }>(`SELECT id FROM audit_events WHERE org_id = $1 AND occurred_at >= $2 AND occurred_at < $3`, [
      orgId,
      from,
      to,
    ]);
    return rows.map((r) => r.id);
  }

  /**
   * What "Done: N events queued" must say for a finished replay: every recorded decision of its
   * window less those already waiting for the destination. The window also holds the configuration
   * trail recorded since (docs/trail.md), which a range replay leaves out; nothing else.
   */
  async function expectedQueued(destinationId: string): Promise<number> {
    const res = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${destinationId}/replays?limit=1`, { apiKey });
    const r = res.body.replays[0] as {
      status: string;
      from: string;
      to: string;
      start_at: string;
      scanned: number;
      filtered_out: number;
      already_pending: number;
      skipped_too_old: number;
    };
    expect(r.status).toBe('done');
    expect(r.start_at).toBe(r.from);
    const windowEvents = await recordedIn(r.from, r.to);
    const ids = new Set(windowEvents);
    expect(history.every((id) => ids.has(id))).toBe(true);
    // Trail events (ids cfg_…) are the dataset aegis.audit_stream.
    expect(windowEvents.filter((id) => !history.includes(id)).every((id) => id.startsWith('cfg_'))).toBe(true);
    const decisions = windowEvents.filter((id) => !id.startsWith('cfg_'));
    expect(r.scanned).toBe(decisions.length);
    expect([r.filtered_out, r.skipped_too_old]).toEqual([0, 0]);
    return decisions.length - r.already_pending;
  }

  it('Send history: last 24 hours gets the new destination the events recorded before it existed', async () => {
    await page.getByRole('button', { name: 'Add destination' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add destination' });
    await dialog.getByRole('radio', { name: /^Custom HTTPS webhook/ }).check();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByLabel('Webhook URL').fill(`${receiver.url}/history`);
    await dialog.getByRole('button', { name: 'Save & test' }).click();
    await expect.poll(() => dialog.getByTestId('test-result').getAttribute('data-ok'), { timeout: 60_000 }).toBe('true');
    const choices = dialog.getByRole('group', { name: 'Send history' });
    await expect(choices.getByRole('radio', { name: 'None' }).isChecked()).resolves.toBe(true);
    await choices.getByRole('radio', { name: 'Last 24 hours' }).check();
    const replayReq = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/replay'));
    await dialog.getByRole('button', { name: 'Done' }).click();
    const body = JSON.parse((await replayReq).postData() ?? '{}') as { from: string; to: string };
    expect(Date.parse(body.to) - Date.parse(body.from)).toBeGreaterThanOrEqual(24 * 3_600_000);
    await dialog.waitFor({ state: 'detached' });

    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as { destination_id: string; url: string; enabled: boolean }[]).find((d) => d.url.endsWith('/history'))!;
    expect(dest.enabled).toBe(true);
    // The card follows the background replay to done; the receiver gets every recorded event.
    const progress = card(page, dest.destination_id).getByTestId('replay-progress');
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    await expect(progress.textContent()).resolves.toContain(`Done: ${await expectedQueued(dest.destination_id)} events queued`);
    await receiver.waitFor(() => history.every((id) => received().has(id)), 60_000);
    await screenshot(page, 'replay-send-history');
  });

  it('Replay a time range on a card shows its progress until done, and the SIEM gets the window again', async () => {
    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as { destination_id: string; url: string }[]).find((d) => d.url.endsWith('/history'))!;
    const before = receiver.requests.length;
    await card(page, dest.destination_id)
      .getByRole('button', { name: /^Replay a time range/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Replay a time range' });
    await expect(dialog.getByLabel('From').inputValue()).resolves.toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await dialog.getByRole('button', { name: 'Replay', exact: true }).click();
    const progress = dialog.getByTestId('replay-progress');
    await progress.waitFor();
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    await expect(progress.textContent()).resolves.toContain(`Done: ${await expectedQueued(dest.destination_id)} events queued`);
    await screenshot(page, 'replay-time-range-done');
    await receiver.waitFor((reqs) => new Set(reqs.slice(before).flatMap(eventIdsOf)).size >= HISTORY, 60_000);
    expect(new Set(receiver.requests.slice(before).flatMap(eventIdsOf))).toEqual(new Set(history));
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    // The API lists both replays, the dashboard's marked as such.
    const replays = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${dest.destination_id}/replays`, { apiKey });
    expect(replays.body.replays.map((r: { status: string; created_by: string }) => [r.status, r.created_by])).toEqual([
      ['done', 'dashboard'],
      ['done', 'dashboard'],
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('Cancel replay stops a long replay; the dialog says so and what was queued stays queued', async () => {
    // A longer history (10 more batches of 20), and a gate on an event of the window's fourth batch:
    // the replay waits there, still running, until Cancel has been clicked and is waiting behind it.
    await seedEvents(tdb.db, orgId, 200);
    const list = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations`, { apiKey });
    const dest = (list.body as { destination_id: string; url: string }[]).find((d) => d.url.endsWith('/history'))!;
    // Their live deliveries first: a replay queues nothing (so would not reach the gate) for an event
    // still pending.
    const pending = async () =>
      (
        await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM forwarding_jobs WHERE destination_id = $1 AND status = 'pending'`, [
          dest.destination_id,
        ])
      ).rows[0]!.n;
    await expect.poll(pending, { timeout: 60_000 }).toBe(0);
    gate = await holdEvent(tdb.db, orgId, await eventAt(tdb.db, orgId, 3 * 20 + 5));
    await card(page, dest.destination_id)
      .getByRole('button', { name: /^Replay a time range/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Replay a time range' });
    await dialog.getByRole('button', { name: 'Replay', exact: true }).click();
    const progress = dialog.getByTestId('replay-progress');
    await progress.waitFor();
    await expect.poll(() => gate!.waiting(), { timeout: 60_000 }).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Cancel replay' }).click();
    // The cancel waits for the batch in progress (docs/history.md); then the batch may commit.
    await expect.poll(() => gate!.waitingBehind(), { timeout: 60_000 }).toBeGreaterThan(0);
    await gate.open();
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('cancelled');
    await expect(progress.textContent()).resolves.toMatch(/^Cancelled: \d+ events? queued before it stopped stay queued\./);
    await screenshot(page, 'replay-cancelled');
    const replays = await svc.request('GET', `/api/orgs/${orgId}/forwarding-destinations/${dest.destination_id}/replays?limit=1`, { apiKey });
    const r = replays.body.replays[0] as { status: string; scanned: number; total_estimate: number };
    expect(r.status).toBe('cancelled');
    expect(r.scanned).toBeLessThan(r.total_estimate);
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(pageErrors).toEqual([]);
  });
});
