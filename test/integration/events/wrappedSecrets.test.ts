import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, openTestDb, type TestDb } from '../../support/db.js';
import { startTestService, type TestService } from '../../support/harness.js';
import { agentRecord, countRows } from './support.js';

// A JWT as an identity provider issues one (RS256 header with a key id, a payload naming a person) with
// a 32-byte signature from a fixed seed, short enough for a summary's 500 characters once wrapped.
const HEADER = Buffer.from('{"alg":"RS256","typ":"JWT","kid":"k1"}').toString('base64url');
const PAYLOAD = Buffer.from('{"sub":"8f2c1a","email":"jane.doe@example.com","name":"Jane Doe"}').toString('base64url');
const SIGNATURE = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 97 + 13) % 256)).toString('base64url');
const JWT = `${HEADER}.${PAYLOAD}.${SIGNATURE}`;

/** The token's lines when hard-wrapped at 64 columns: no one of them may leave the request. */
function lines(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < token.length; i += 64) out.push(token.slice(i, i + 64));
  return out;
}
const JWT_LINES = lines(JWT);
const GITHUB_PIECES = ['ghp_Pl4ntedT0kenAbCd', 'EfGhIjKlMnOpQrStUvWx'];

// A secret broken across lines, as verified leaking through the summary: [name, text, pieces].
const WRAPPED: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['a JWT hard-wrapped with spaces', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join(' ')}`, JWT_LINES],
  ['a JWT hard-wrapped with escaped line breaks', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\\n')}`, JWT_LINES],
  ['a JWT hard-wrapped with U+2028', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\u2028')}`, JWT_LINES],
  ['a JWT hard-wrapped with NEL', `Blocked JWT in Authorization: Bearer ${JWT_LINES.join('\u0085')}`, JWT_LINES],
  ['a JWT split after its dots', `Blocked JWT ${HEADER}. ${PAYLOAD}. ${SIGNATURE}`, [HEADER, PAYLOAD, SIGNATURE]],
  ['a GitHub token split by a space', `Blocked GitHub token ${GITHUB_PIECES.join(' ')}`, GITHUB_PIECES],
  ['a GitHub token split by an escaped line break', `Blocked GitHub token ${GITHUB_PIECES.join('\\n')}`, GITHUB_PIECES],
];

describe.each(DB_KINDS)('secrets broken across lines (%s)', (kind) => {
  let tdb: TestDb;
  let svc: TestService;
  let org: { orgId: string; apiKey: string };

  beforeAll(async () => {
    tdb = await openTestDb(kind);
    svc = await startTestService(tdb.db, { AEGIS_RETRY_DELAYS_S: '1,1,1' });
    org = await svc.newOrg();
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  const post = (path: string, body: unknown) => svc.request('POST', `/api/orgs/${org.orgId}${path}`, { apiKey: org.apiKey, body });

  it.each(WRAPPED)('POST /audit-events refuses %s in the summary, naming the field', async (_name, summary, pieces) => {
    const before = await countRows(tdb.db, 'audit_events', org.orgId);
    const res = await post('/audit-events', { events: [agentRecord(), agentRecord({ decision: 'BLOCKED', summary })] });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain('events[1].summary');
    for (const piece of pieces) expect(res.text).not.toContain(piece);
    expect(await countRows(tdb.db, 'audit_events', org.orgId)).toBe(before);
    const logs = svc.logs.text();
    for (const piece of pieces) expect(logs).not.toContain(piece);
  });

  it.each([
    ...WRAPPED,
    ['a JWT hard-wrapped with newlines', `Bearer ${JWT_LINES.join('\n')}`, JWT_LINES],
    ['a JWT hard-wrapped with CRLF', `Bearer ${JWT_LINES.join('\r\n')}`, JWT_LINES],
    ['a GitHub token split by a newline', `token ${GITHUB_PIECES.join('\n')}`, GITHUB_PIECES],
  ] as const)('POST /preflight blocks %s and masks every piece', async (_name, input, pieces) => {
    const res = await post('/preflight', { input });
    expect(res.status, res.text).toBe(200);
    expect(res.body.decision).toBe('BLOCKED');
    const masked = res.body.masked_input as string;
    expect(masked).toMatch(/\[(?:JWT|GITHUB_TOKEN)\]$/);
    for (const piece of pieces) {
      expect(masked).not.toContain(piece);
      expect(res.text).not.toContain(piece);
    }
  });
});
