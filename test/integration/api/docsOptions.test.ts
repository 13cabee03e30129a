// Issue 9: docs/siem/*.md offered options the API refused with a 400 (Datadog service; Sumo Logic
// sourceName, sourceHost, fields; a custom signingSecret where the API takes "signing": true). Each
// page now shows its create body with every option it names; this test reads those bodies out of
// the pages and posts them, over real HTTP on both databases, expecting them to be accepted as shown.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { SIEM_IDS, SIEM_PRESETS } from '../../../src/siem/catalog.js';

const ROOT = new URL('../../../', import.meta.url);
type Body = Record<string, unknown> & { url: string; siem?: string; options?: Record<string, unknown> };

/** Create-destination bodies a page shows: ```json blocks and curl -d '...' bodies that have a url. */
function createBodies(markdown: string): Body[] {
  const bodies: Body[] = [];
  for (const m of markdown.matchAll(/```(json|sh)\n([\s\S]*?)```/g)) {
    const text = m[1] === 'json' ? m[2]! : /-d '([\s\S]*?)'/.exec(m[2]!)?.[1];
    if (text === undefined || !/"url"\s*:/.test(text)) continue;
    // A block that names a url is a body to send: it must parse, or the page shows broken JSON.
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Body).url === 'string') bodies.push(value as Body);
  }
  return bodies;
}

/**
 * The option names the page's "Optional preset option(s)" bullet offers: backticked identifiers,
 * not the values shown as "default `...`" nor header names (X-Sumo-Name) or examples (env=prod).
 */
function offeredOptions(markdown: string): string[] {
  const bullet = /^- Optional preset options?[^\n]*(?:\n {2}[^\n]*)*/m.exec(markdown)?.[0] ?? '';
  return [...bullet.matchAll(/(default )?`([^`]+)`/g)].filter((m) => !m[1] && /^[a-z][A-Za-z_]*$/.test(m[2]!)).map((m) => m[2]!);
}

const pages = SIEM_IDS.map((id) => {
  const markdown = readFileSync(new URL(SIEM_PRESETS[id].docsPath, ROOT), 'utf8');
  return { id, path: SIEM_PRESETS[id].docsPath, bodies: createBodies(markdown), offered: offeredOptions(markdown) };
});

describe('docs/siem pages', () => {
  it('every page in docs/siem belongs to a SIEM and shows at least one create body for it', () => {
    expect(
      readdirSync(new URL('docs/siem/', ROOT))
        .map((f) => `docs/siem/${f}`)
        .sort(),
    ).toEqual(pages.map((p) => p.path).sort());
    for (const page of pages) {
      expect(page.bodies.length, page.path).toBeGreaterThan(0);
      for (const body of page.bodies) expect(body.siem ?? 'custom', page.path).toBe(page.id);
    }
  });

  it('every option a page offers appears in one of its create bodies (so the test below sends it)', () => {
    const offeredSomewhere = pages.flatMap((p) => p.offered);
    // The extraction finds the options the pages list (a page rewording its bullet must not hide them).
    expect(offeredSomewhere).toEqual(expect.arrayContaining(['index', 'sourcetype', 'tags', 'service', 'category', 'sourceName', 'sourceHost', 'fields']));
    for (const page of pages) {
      const shown = new Set(page.bodies.flatMap((b) => Object.keys(b.options ?? {})));
      for (const option of page.offered) expect(shown.has(option), `${page.path} offers ${option} but shows no body with it`).toBe(true);
    }
  });
});

describe.each(DB_KINDS)('docs/siem create bodies are accepted by the API as shown (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let orgId: string;
  let apiKey: string;

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    // No worker: the bodies point at example hosts; only the API's answer is under test.
    svc = await startTestService(tdb.db, {}, 'api');
    ({ orgId, apiKey } = await svc.newOrg());
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const cases = pages.flatMap((p) => p.bodies.map((body, i) => [`${p.path} #${i + 1}`, body] as const));
  it.each(cases)('%s: 201, and the destination reads back with the options as posted', async (_name, body) => {
    const base = `/api/orgs/${orgId}/forwarding-destinations`;
    const res = await svc.request('POST', base, { apiKey, body });
    expect(res.status, res.text).toBe(201);
    expect(res.body.siem).toBe(body.siem ?? 'custom');
    if (body.signing === true) expect(res.body.signing_secret).toMatch(/^whsec_/);
    const read = await svc.request('GET', `${base}/${res.body.destination_id}`, { apiKey });
    expect(read.status).toBe(200);
    expect(read.body.options).toEqual(body.options ?? {});
  });
});
