import { describe, expect, it } from 'vitest';
import { generateKeyBase64, parseKeyRing } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import { decodePullCursor, encodePullCursor } from './pullCursor.js';

const oldKey = generateKeyBase64();
const newKey = generateKeyBase64();
const ring = parseKeyRing(`old:${oldKey}`);
const pos = { txid: '18446744073709551615', id: 'pflt_abc.def-GHI_1' };

function refused(r: typeof ring, org: string, cursor: string): AppError {
  try {
    decodePullCursor(r, org, cursor);
  } catch (err) {
    return err as AppError;
  }
  throw new Error('cursor was accepted');
}

describe('pull cursor', () => {
  it('round-trips a position, 64-bit txid and dotted id included', () => {
    expect(decodePullCursor(ring, 'org_a', encodePullCursor(ring, 'org_a', pos))).toEqual(pos);
    expect(decodePullCursor(ring, 'org_a', encodePullCursor(ring, 'org_a', { txid: '0', id: '' }))).toEqual({ txid: '0', id: '' });
  });

  it('refuses every single-bit change, with a 400 naming cursor', () => {
    const raw = Buffer.from(encodePullCursor(ring, 'org_a', pos), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(raw);
        copy[i] = copy[i]! ^ (1 << bit);
        const err = refused(ring, 'org_a', copy.toString('base64url'));
        expect(err).toBeInstanceOf(AppError);
        expect(err.status).toBe(400);
        expect(err.message).toMatch(/^cursor: /);
      }
    }
  });

  it("refuses another organization's cursor, another deployment's, and non-cursors", () => {
    const c = encodePullCursor(ring, 'org_a', pos);
    expect(refused(ring, 'org_b', c).message).toMatch(/^cursor: /);
    expect(refused(parseKeyRing(newKey), 'org_a', c).message).toMatch(/^cursor: /);
    for (const junk of ['', 'AAAA', '!!!!', 'a'.repeat(401), Buffer.from('e1.1.x').toString('base64url')]) {
      expect(refused(ring, 'org_a', junk).message).toMatch(/^cursor: /);
    }
  });

  it('keeps cursors valid across a key rotation while the old key stays in the ring', () => {
    const before = encodePullCursor(ring, 'org_a', pos);
    const rotated = parseKeyRing(`new:${newKey},old:${oldKey}`);
    expect(decodePullCursor(rotated, 'org_a', before)).toEqual(pos);
    const after = encodePullCursor(rotated, 'org_a', pos);
    expect(after).not.toBe(before);
    expect(refused(ring, 'org_a', after).message).toMatch(/^cursor: /);
  });
});
