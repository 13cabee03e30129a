/**
 * A summary's forms a review found refused or forwarded wrongly: a UUID read as a digit run (refused,
 * though it is no value), and an address with "at" and a dot spelled as words (forwarded, though a
 * summary names finding types only).
 */
import { describe, expect, it } from 'vitest';
import { guardAgentRecord } from './privacyGuard.js';
import { guardRecord } from '../../test/support/guardRecord.js';

const record = guardRecord;

describe('a UUID in the summary', () => {
  it.each([
    'Request 123e4567-e89b-12d3-a456-426614174000 blocked',
    'Request 123E4567-E89B-12D3-A456-426614174000 blocked',
    'trace 00000000-0000-4000-8000-000000000000',
  ])('is no digit run: %j is accepted', (summary) => {
    expect(guardAgentRecord({ ...record, summary })).toEqual([]);
  });

  it.each(['Blocked account 123456789012', 'id 12345678-1234-1234-1234-123456789012', 'uuid 123e4567-e89b-12d3-a456-426614174000123'])(
    'leaves a run outside a UUID refused: %j',
    (summary) => {
      expect(guardAgentRecord({ ...record, summary }).map((v) => v.path)).toEqual(['/summary']);
    },
  );
});

describe('an address with "at" and a dot spelled as words in the summary', () => {
  it.each(['jane at gmail dot com', 'JANE AT GMAIL DOT COM', 'jane_at_gmail_dot_com', 'jane at mail dot example dot co dot uk'])(
    'refuses %j as EMAIL',
    (address) => {
      const v = guardAgentRecord({
        ...record,
        summary: `Blocked mail to ${address} today`,
      });
      expect(v).toEqual([
        {
          path: '/summary',
          message: expect.stringContaining('EMAIL') as unknown,
        },
      ]);
      expect(JSON.stringify(v)).not.toContain(address);
    },
  );

  it.each([
    'jane at gmail dot com',
    'jane at gmail dot com.',
    'jane at gmail dot com, bob',
    'jane at gmail dot com was blocked',
    'jane at gmail dot com for review',
  ])('refuses %j, what follows a name following it', (tail) => {
    expect(guardAgentRecord({ ...record, summary: `Mail to ${tail}` }).map((v) => v.path)).toEqual(['/summary']);
  });

  // A review's: words after "dot com" that make it a phrase, not an address.
  it.each([
    'Blocked upload at docs.google.com',
    'meeting at 10 dot points',
    'look at the dot com era',
    'Scan at edge dot node',
    'Devs at Acme dot com era',
    'Blocked at runtime dot net apps',
    'Scanning at Contoso dot NET team',
    'Bob at Sales dot uk office',
    'Meet at HQ dot com launch party',
  ])('accepts the prose %j', (summary) => {
    expect(guardAgentRecord({ ...record, summary })).toEqual([]);
  });
});
