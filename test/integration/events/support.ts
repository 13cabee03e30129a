// Shared helpers for the producer-API tests: planted values, database dumps and leak scans, a valid
// agent record, and row counts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import type { Queryable } from '../../../src/db/types.js';
import type { TestDb } from '../../support/db.js';

const execFileP = promisify(execFile);

/**
 * Unique values that must never leave the caller's request: each one is found by the detectors
 * (a valid SSN, a Luhn-valid card, an AWS access key id, a GitHub token, two emails). `forms` are the
 * spellings a leak could take (with and without separators).
 */
export const PLANTED = {
  ssn: '287-65-4321',
  card: '4539 7812 3456 7813',
  aws: 'AKIAZ7QPLNTD9XK2M4QA',
  github: 'ghp_Pl4ntedT0kenAbCdEfGhIjKlMnOpQrStUvWx',
  email1: 'planted.one@leak-test.example',
  email2: 'planted.two@leak-test.example',
} as const;

/** Every spelling of every planted value that a scan looks for. */
export const PLANTED_FORMS: string[] = [
  ...Object.values(PLANTED),
  '287654321',
  '287 65 4321',
  '4539781234567813',
  '4539-7812-3456-7813',
  'AKIAZ7QPLNTD9XK2M4QA'.toLowerCase(),
  'Pl4ntedT0kenAbCdEfGhIjKlMnOpQrStUvWx',
  'planted.one',
  'planted.two',
  'leak-test.example',
  // Spellings the detectors normalize (issue #14): dots, en dashes, fullwidth, "_" in identifiers.
  '287.65.4321',
  '287\u201365\u20134321',
  '\uff12\uff18\uff17',
  '287_65_4321',
  '65 4321',
  '4539.7812.3456.7813',
  '4539781234567813',
  'PLANTED_ONE',
];

/** The planted values a text contains (empty = clean). */
export function leaksIn(text: string): string[] {
  return PLANTED_FORMS.filter((v) => text.includes(v));
}

/** The product page's example event (src/events/fixtures/product-page-example.json), parsed in order. */
export const PAGE_EXAMPLE = JSON.parse(readFileSync(new URL('../../../src/events/fixtures/product-page-example.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

/** A valid agent decision record (the aegis fields of the wire event), with overrides. */
export function agentRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    decision: 'ALLOWED_WITH_MASKING',
    destination: 'AI_TOOL',
    summary: 'Detected SSN, EMAIL; masked.',
    policy_version: 'v1.0',
    policy_id: 'pol_default',
    source_type: 'desktop_agent',
    input_type: 'text',
    input_size_bytes: 321,
    finding_counts_by_type: { SSN: 1, EMAIL: 2 },
    ...overrides,
  };
}

/**
 * Rows of the test's own events (preflight and agent records) or of their jobs. Configuration trail
 * events (ids `cfg_...`, recorded when a test creates or changes a destination) and their jobs are left
 * out, so a count says what the request under test recorded and nothing else.
 */
export async function countRows(db: Queryable, table: 'audit_events' | 'forwarding_jobs', orgId?: string): Promise<number> {
  const idColumn = table === 'audit_events' ? 'id' : 'event_id';
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE left(${idColumn}, 4) <> 'cfg_'${orgId ? ' AND org_id = $1' : ''}`,
    orgId ? [orgId] : [],
  );
  return rows[0]!.n;
}

const TABLES = ['orgs', 'api_keys', 'destinations', 'audit_events', 'forwarding_jobs', 'delivery_attempts', 'login_links', 'sessions', 'schema_migrations'];

/**
 * Everything the database holds, as text: the real `pg_dump` of the test schema on the server; on
 * PGlite, every row of every table of the public schema as JSON.
 */
export async function dumpDatabase(tdb: TestDb): Promise<string> {
  if (tdb.kind === 'postgres') {
    const { stdout } = await execFileP('pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-n', tdb.schema!], {
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  }
  const { rows: tables } = await tdb.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const names = tables.map((t) => t.table_name);
  // The dump must cover the tables we know of (a renamed table would otherwise escape the scan).
  for (const t of TABLES.filter((t) => t !== 'schema_migrations')) if (!names.includes(t)) throw new Error(`table ${t} missing from the dump`);
  const out: string[] = [];
  for (const name of names) {
    const { rows } = await tdb.db.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM "${name}" t`);
    out.push(`-- ${name}`, ...rows.map((r) => r.r));
  }
  return out.join('\n');
}

/** Planted values in a database dump, also looking for their hex form (bytea columns dump as hex). */
export function leaksInDump(dump: string): string[] {
  const lower = dump.toLowerCase();
  return [...leaksIn(dump), ...Object.values(PLANTED).filter((v) => lower.includes(Buffer.from(v, 'utf8').toString('hex')))];
}
