// Shared pieces of the dashboard end-to-end tests: the system Chromium (never downloaded), sign-in
// through a real one-time link, a recorder of every response body, and screenshots.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import { createLoginLink } from '../../src/auth/sessions.js';
import type { Db } from '../../src/db/types.js';
import type { TestService } from '../support/harness.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh user-data-dir (deleted on close). */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'aegis-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  // A ceiling, not an expectation: every wait returns as soon as its condition holds, and on a busy
  // 2-core machine (CI runs the browser beside the other suites) a sign-in's page load, form POST,
  // redirect and list fetch can take longer than 15 s.
  context.setDefaultTimeout(60_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a real one-time sign-in link and waits for the SIEM Forwarding page. */
export async function signIn(page: Page, svc: TestService, db: Db, orgId: string): Promise<string> {
  const link = await createLoginLink(db, orgId, svc.baseUrl);
  await page.goto(link);
  // The link opens a sign-in page; its button (a same-origin form POST) uses the link up.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/settings/siem-forwarding');
  await page.getByRole('heading', { name: 'SIEM Forwarding', level: 2 }).waitFor();
  return link;
}

export interface Dashboard {
  page: Page;
  orgId: string;
  apiKey: string;
  /** The one-time sign-in link, used up by the sign-in. */
  link: string;
  /** Console and page errors from the moment the page opened. */
  pageErrors: string[];
}

/**
 * What nearly every dashboard test starts with: an organization (a new one by this name, or one the
 * test made first), a new page of `browser` collecting its errors, signed in through a real one-time
 * link, on SIEM Forwarding. `beforeSignIn` runs on the blank page first, e.g. to record every response.
 */
export async function openDashboard(
  browser: Browser,
  svc: TestService,
  db: Db,
  org: string | { orgId: string; apiKey: string } = 'Test org',
  beforeSignIn?: (page: Page) => void,
): Promise<Dashboard> {
  const { orgId, apiKey } = typeof org === 'string' ? await svc.newOrg(org) : org;
  const page = await browser.context.newPage();
  const pageErrors = collectPageErrors(page);
  beforeSignIn?.(page);
  const link = await signIn(page, svc, db, orgId);
  return { page, orgId, apiKey, link, pageErrors };
}

/** Records every response body the page receives, to prove a credential never comes back. */
export function recordResponses(page: Page): { bodies: { url: string; body: string }[]; settle(): Promise<void> } {
  const bodies: { url: string; body: string }[] = [];
  const pending: Promise<void>[] = [];
  const onResponse = (res: Response) => {
    pending.push(
      res
        .body()
        .then((b) => {
          bodies.push({ url: res.url(), body: b.toString('utf8') });
        })
        .catch(() => undefined), // redirects have no body
    );
  };
  page.on('response', onResponse);
  return {
    bodies,
    async settle() {
      await Promise.all(pending);
    },
  };
}

/** Console errors and page errors (a Content-Security-Policy violation shows up here too). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/**
 * Saves a screenshot once the cards' charts have loaded. With a dialog open it captures the viewport
 * (what the user sees); otherwise the full page.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.waitForFunction(() => !document.querySelector('svg[aria-label^="Loading"]'));
  const dialogOpen = (await page.getByRole('dialog').count()) > 0;
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: !dialogOpen });
}

/** The card of a destination. */
export function card(page: Page, destinationId: string) {
  return page.locator(`article[data-destination-id="${destinationId}"]`);
}

/**
 * Whether the element has focus, as a function for `expect.poll`: focus moves in effects after a
 * render (a step's heading, Rotate's field, the opener on close), so it is polled, never read once.
 */
export function hasFocus(locator: Locator): () => Promise<boolean> {
  return () => locator.evaluate((el) => el === document.activeElement);
}
