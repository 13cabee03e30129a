import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyBase64, parseKeyRing, type KeyRing } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import { decodePullCursor, encodePullCursor, MAX_CURSOR_LENGTH } from './pullCursor.js';

const oldKey = generateKeyBase64();
const newKey = generateKeyBase64();
const ring = parseKeyRing(`old:${oldKey}`);
const pos = { txid: '18446744073709551615', id: 'pflt_abc.def-GHI_1' };

function refused(r: KeyRing, org: string, cursor: string): AppError {
  try {
    decodePullCursor(r, org, cursor);
  } catch (err) {
    return err as AppError;
  }
  throw new Error('cursor was accepted');
}

function expectCursor400(err: AppError): void {
  expect(err).toBeInstanceOf(AppError);
  expect(err.status).toBe(400);
  expect(err.code).toBe('validation_failed');
  expect(err.message).toBe('cursor: is not a cursor this API gave out for this organization; pass next_cursor from the previous page as is');
}

/**
 * The retired e1 form, minted from its frozen definition (not by the module under test):
 * base64url(HMAC-SHA-256 (first 16 bytes) || "e1.<txid>.<event id>"). Clients may still hold these.
 */
function e1Cursor(r: KeyRing, orgId: string, p: { txid: string; id: string }, mac = r.primary.key): string {
  const key = Buffer.from(hkdfSync('sha256', mac, Buffer.alloc(0), 'aegis audit-events pull cursor v1', 32));
  const payload = `e1.${p.txid}.${p.id}`;
  const tag = createHmac('sha256', key).update(`${orgId}\n${payload}`).digest().subarray(0, 16);
  return Buffer.concat([tag, Buffer.from(payload, 'utf8')]).toString('base64url');
}

describe('pull cursor', () => {
  it('round-trips a position, 64-bit txid and dotted id included', () => {
    expect(decodePullCursor(ring, 'org_a', encodePullCursor(ring, 'org_a', pos))).toEqual(pos);
    expect(decodePullCursor(ring, 'org_a', encodePullCursor(ring, 'org_a', { txid: '0', id: '' }))).toEqual({ txid: '0', id: '' });
    expect(decodePullCursor(ring, 'org_a', encodePullCursor(ring, 'org_a', { txid: '9', id: 'x' }))).toEqual({ txid: '9', id: 'x' });
  });

  it('hides the position: no txid or event id in the bytes, a different cursor each time, a length independent of the txid', () => {
    const p = { txid: '4242424242', id: 'pflt_AbCdEfGhIjKlMnOpQrStUvWx' };
    const a = encodePullCursor(ring, 'org_a', p);
    const b = encodePullCursor(ring, 'org_a', p);
    expect(a).not.toBe(b);
    for (const c of [a, b]) {
      const text = Buffer.from(c, 'base64url').toString('latin1');
      expect(text).not.toContain('4242');
      expect(text).not.toContain('AbCdEf');
      expect(text).not.toContain('e1.');
      expect(decodePullCursor(ring, 'org_a', c)).toEqual(p);
    }
    expect(encodePullCursor(ring, 'org_a', { txid: '1', id: p.id }).length).toBe(a.length);
    expect(encodePullCursor(ring, 'org_a', { txid: '9223372036854775807', id: p.id }).length).toBe(a.length);
  });

  it('stays within MAX_CURSOR_LENGTH for the longest position and a 32-character key id', () => {
    const longRing = parseKeyRing(`${'k'.repeat(32)}:${oldKey}`);
    const longest = { txid: '18446744073709551615', id: 'x'.repeat(200) };
    const c = encodePullCursor(longRing, 'org_a', longest);
    expect(c.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
    expect(decodePullCursor(longRing, 'org_a', c)).toEqual(longest);
  });

  it('refuses every single-bit change, with the one 400 naming cursor', () => {
    const raw = Buffer.from(encodePullCursor(ring, 'org_a', pos), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(raw);
        copy[i] = copy[i]! ^ (1 << bit);
        expectCursor400(refused(ring, 'org_a', copy.toString('base64url')));
      }
    }
  });

  it('refuses every truncation and every other version byte', () => {
    const raw = Buffer.from(encodePullCursor(ring, 'org_a', pos), 'base64url');
    for (let n = 0; n < raw.length; n++) {
      const cut = raw.subarray(0, n).toString('base64url');
      if (cut === '') continue; // The route's schema refuses an empty cursor; decode does too, below.
      expectCursor400(refused(ring, 'org_a', cut));
    }
    // The cut text: base64url characters dropped from the end.
    const c = raw.toString('base64url');
    for (let n = 1; n < c.length; n++) expectCursor400(refused(ring, 'org_a', c.slice(0, n)));
    for (let v = 0; v < 256; v++) {
      if (v === raw[0]) continue;
      const copy = Buffer.from(raw);
      copy[0] = v;
      expectCursor400(refused(ring, 'org_a', copy.toString('base64url')));
    }
  });

  it("refuses another organization's cursor, another deployment's, and non-cursors", () => {
    const c = encodePullCursor(ring, 'org_a', pos);
    expectCursor400(refused(ring, 'org_b', c));
    expectCursor400(refused(ring, 'org_a\n', c));
    expectCursor400(refused(parseKeyRing(newKey), 'org_a', c));
    // Another deployment whose key has the same id: the key id names a key, it does not vouch for one.
    expectCursor400(refused(parseKeyRing(`old:${newKey}`), 'org_a', c));
    for (const junk of ['', 'AAAA', '!!!!', 'a'.repeat(401), Buffer.from('e1.1.x').toString('base64url'), Buffer.from([2]).toString('base64url')]) {
      expectCursor400(refused(ring, 'org_a', junk));
    }
  });

  it('keeps cursors valid across a key rotation while the old key stays in the ring', () => {
    const before = encodePullCursor(ring, 'org_a', pos);
    const rotated = parseKeyRing(`new:${newKey},old:${oldKey}`);
    expect(decodePullCursor(rotated, 'org_a', before)).toEqual(pos);
    const after = encodePullCursor(rotated, 'org_a', pos);
    expect(after).not.toBe(before);
    expectCursor400(refused(ring, 'org_a', after));
  });

  describe('e1 cursors given out before encryption', () => {
    it('are still accepted, after a key rotation too', () => {
      expect(decodePullCursor(ring, 'org_a', e1Cursor(ring, 'org_a', pos))).toEqual(pos);
      expect(decodePullCursor(ring, 'org_a', e1Cursor(ring, 'org_a', { txid: '0', id: '' }))).toEqual({ txid: '0', id: '' });
      expect(decodePullCursor(parseKeyRing(`new:${newKey},old:${oldKey}`), 'org_a', e1Cursor(ring, 'org_a', pos))).toEqual(pos);
    });

    it('are accepted even when their MAC starts with the e2 version byte', () => {
      // e1 has no version byte: one in 256 starts like an e2 cursor, and must still be read as e1.
      let c = '';
      for (let i = 0; ; i++) {
        c = e1Cursor(ring, 'org_a', { txid: String(1000 + i), id: 'pflt_x' });
        if (Buffer.from(c, 'base64url')[0] === 0x02) break;
      }
      expect(decodePullCursor(ring, 'org_a', c).id).toBe('pflt_x');
    });

    it('are refused when altered, cut, for another organization or another deployment', () => {
      const c = e1Cursor(ring, 'org_a', pos);
      expectCursor400(refused(ring, 'org_b', c));
      expectCursor400(refused(parseKeyRing(newKey), 'org_a', c));
      const raw = Buffer.from(c, 'base64url');
      for (let i = 0; i < raw.length; i++) {
        const copy = Buffer.from(raw);
        copy[i] = copy[i]! ^ 0x01;
        expectCursor400(refused(ring, 'org_a', copy.toString('base64url')));
      }
      for (let n = 1; n < raw.length; n++) expectCursor400(refused(ring, 'org_a', raw.subarray(0, n).toString('base64url')));
      // Authentic but not a position: refused as before.
      expectCursor400(refused(ring, 'org_a', e1Cursor(ring, 'org_a', { txid: '01', id: 'x' })));
    });
  });
});
