import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyRing } from '../crypto/keyring.js';
import { sealAuthHeader, sealOAuthClientSecret, sealSigningSecret } from '../destinations/credentials.js';
import type { DestinationRow } from '../destinations/row.js';
import { heldTarget, targetSecrets } from './target.js';

const ring = parseKeyRing(randomBytes(32).toString('base64'));
const ORG = 'org_target';
const DEST = 'dst_target';

/** A held row as the worker's row cache hands it out: only what opening a target reads matters. */
function row(overrides: Partial<DestinationRow> = {}): Omit<DestinationRow, 'filter'> {
  return {
    org_id: ORG,
    id: DEST,
    siem: 'custom',
    format: 'ecs',
    url: 'https://siem.example.com/hook',
    auth_header_name: 'Authorization',
    auth_header_sealed: sealAuthHeader(ring, ORG, DEST, 'Bearer first-credential'),
    signing_secret_sealed: null,
    previous_signing_secret_sealed: null,
    previous_signing_secret_until: null,
    auth: null,
    auth_client_secret_sealed: null,
    options: {},
    ...overrides,
  } as Omit<DestinationRow, 'filter'>;
}

describe('heldTarget', () => {
  it('opens a held row once: the next runner of the same row gets the same target', () => {
    const held = row();
    const first = heldTarget(ring, held);
    expect(first.authHeaderValue).toBe('Bearer first-credential');
    expect(heldTarget(ring, held)).toBe(first);
  });

  it('a changed row (another object: the row cache replaces it) is opened afresh', () => {
    const before = row();
    expect(heldTarget(ring, before).authHeaderValue).toBe('Bearer first-credential');
    const rotated = row({ auth_header_sealed: sealAuthHeader(ring, ORG, DEST, 'Bearer second-credential') });
    expect(heldTarget(ring, rotated).authHeaderValue).toBe('Bearer second-credential');
    // The old object still answers with what it held (a runner started before the change).
    expect(heldTarget(ring, before).authHeaderValue).toBe('Bearer first-credential');
  });

  it('a previous signing secret stops signing when its overlap ends, though the row is unchanged', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const until = new Date(now + 60_000);
    const held = row({
      signing_secret_sealed: sealSigningSecret(ring, ORG, DEST, 'whsec_current'),
      previous_signing_secret_sealed: sealSigningSecret(ring, ORG, DEST, 'whsec_previous', 'previous_signing_secret'),
      previous_signing_secret_until: until,
    });
    expect(heldTarget(ring, held, now).previousSigningSecret).toEqual({ secret: 'whsec_previous', until });
    expect(heldTarget(ring, held, now + 59_999).previousSigningSecret?.secret).toBe('whsec_previous');
    const after = heldTarget(ring, held, now + 60_000);
    expect(after.previousSigningSecret).toBeNull();
    expect(after.signingSecret).toBe('whsec_current');
  });

  it('is kept per key ring: a row opened under one ring is not handed out under another', () => {
    const held = row();
    heldTarget(ring, held);
    const otherRing = parseKeyRing(randomBytes(32).toString('base64'));
    expect(() => heldTarget(otherRing, held)).toThrow(/not in AEGIS_ENCRYPTION_KEY/);
  });
});

describe('targetSecrets', () => {
  it("holds the token URL's secrets too (a token proxy's ?code=): answers about the token request quote it", () => {
    const code = 'Zx9Qw2LmPp1Ab9Cd3Ef';
    const target = heldTarget(
      ring,
      row({
        auth_header_name: null,
        auth_header_sealed: null,
        auth: {
          type: 'oauth2_client_credentials',
          token_url: `https://tokens.example.com/api/token?code=${code}`,
          client_id: 'aegis',
          scope: null,
          token_endpoint_auth_method: 'client_secret_basic',
        },
        auth_client_secret_sealed: sealOAuthClientSecret(ring, ORG, DEST, 'client-secret-value'),
      }),
    );
    expect(targetSecrets(target)).toEqual(expect.arrayContaining([code, 'client-secret-value']));
  });
});
