import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DataKey, KeyRing } from '../crypto/keyring.js';
import { DecryptError, open, seal } from '../crypto/sealedBox.js';
import { invalid } from '../errors.js';
import type { PullPosition } from './pull.js';

/**
 * The pull API's opaque cursor: a position in an organization's recording order, encrypted and
 * authenticated.
 *
 * Why encrypted, not only MAC'd: the position's txid is pg_current_xact_id(), a counter of every
 * transaction on the whole PostgreSQL server. Readable, two successive cursors would tell an
 * organization how many transactions the other tenants (and the service) ran between its pulls.
 *
 * Layout (form "e2"): base64url(0x02 || sealed box), the box being src/crypto/sealedBox.ts's
 * AES-256-GCM (fresh random nonce each time, so two cursors for one position differ) over the
 * txid, zero-padded to 20 digits (so the length does not follow the server's counter either), and
 * the event id. Associated data: the form and the organization id, so a cursor taken to another
 * organization fails to open. The key is derived (HKDF, its own label) from each key of the
 * encryption key ring, never the credential key itself: cursors are minted on every poll, and their
 * nonces must not eat into the credentials' key. Every API process of a deployment shares the ring,
 * so a cursor works on any of them and after a restart; rotating in a new first key keeps old
 * cursors valid while the old key stays in the ring. A cursor altered in any byte, cut short, or
 * taken to another organization is refused with a 400 instead of silently starting somewhere else.
 *
 * Form "e1" (given out before, base64url(HMAC (16 bytes) || "e1.<txid>.<event id>")) is still
 * accepted and never issued: pollers store their cursor and resume from it after an upgrade, and a
 * refused cursor would send them back to the start of their stream. An e1 cursor reveals nothing
 * its holder has not already read; the answer to it carries an e2 cursor, so each poller moves to
 * the new form with its next request. e1 has no version byte of its own (it starts with its MAC), so
 * a cursor is read as e2 when it opens as one and otherwise checked as e1: both are authenticated,
 * so no text is ever accepted as the wrong form.
 */
const E2 = 0x02;
const E2_AAD = 'aegis/pull-cursor/e2/';
const TXID_DIGITS = 20;
const E1_MAC_BYTES = 16;
/**
 * The longest cursor the API accepts. An e2 cursor of the longest position (20-digit txid, event id
 * of 200 bytes; ids are at most 85) under a 32-character key id is 283 bytes, 378 characters.
 */
export const MAX_CURSOR_LENGTH = 400;

function derivedKey(cache: WeakMap<Buffer, Buffer>, label: string, key: Buffer): Buffer {
  let k = cache.get(key);
  if (!k) {
    k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), label, 32));
    cache.set(key, k);
  }
  return k;
}

const e2Keys = new WeakMap<Buffer, Buffer>();
const e2Rings = new WeakMap<KeyRing, KeyRing>();
/** The ring's keys, each replaced by its cursor key (same ids, so a cursor names the key that opens it). */
function cursorRing(ring: KeyRing): KeyRing {
  let r = e2Rings.get(ring);
  if (!r) {
    const derive = (k: DataKey): DataKey => ({ id: k.id, key: derivedKey(e2Keys, 'aegis audit-events pull cursor e2 aes-256-gcm', k.key) });
    r = { primary: derive(ring.primary), byId: new Map([...ring.byId].map(([id, k]) => [id, derive(k)])) };
    e2Rings.set(ring, r);
  }
  return r;
}

const e1Keys = new WeakMap<Buffer, Buffer>();
function e1Mac(key: Buffer, orgId: string, payload: string): Buffer {
  return createHmac('sha256', derivedKey(e1Keys, 'aegis audit-events pull cursor v1', key))
    .update(`${orgId}\n${payload}`)
    .digest()
    .subarray(0, E1_MAC_BYTES);
}

export function encodePullCursor(ring: KeyRing, orgId: string, pos: PullPosition): string {
  const box = seal(cursorRing(ring), `${pos.txid.padStart(TXID_DIGITS, '0')}${pos.id}`, E2_AAD + orgId);
  return Buffer.concat([Buffer.from([E2]), box]).toString('base64url');
}

function openE2(ring: KeyRing, orgId: string, raw: Buffer): PullPosition | null {
  if (raw[0] !== E2) return null;
  let text: string;
  try {
    text = open(cursorRing(ring), raw.subarray(1), E2_AAD + orgId);
  } catch (err) {
    if (err instanceof DecryptError) return null;
    throw err;
  }
  const m = /^([0-9]{20})(.{0,200})$/s.exec(text);
  return m ? { txid: BigInt(m[1]!).toString(), id: m[2]! } : null;
}

function openE1(ring: KeyRing, orgId: string, raw: Buffer): PullPosition | null {
  if (raw.length <= E1_MAC_BYTES) return null;
  const tag = raw.subarray(0, E1_MAC_BYTES);
  const payload = raw.subarray(E1_MAC_BYTES).toString('utf8');
  if (![...ring.byId.values()].some((k) => timingSafeEqual(e1Mac(k.key, orgId, payload), tag))) return null;
  const m = /^e1\.(0|[1-9][0-9]{0,19})\.(.{0,200})$/s.exec(payload);
  return m ? { txid: m[1]!, id: m[2]! } : null;
}

/** The position a cursor names, or a 400 naming `cursor` when this API did not give it out for this organization. */
export function decodePullCursor(ring: KeyRing, orgId: string, cursor: string): PullPosition {
  const refuse = () => invalid('cursor', 'is not a cursor this API gave out for this organization; pass next_cursor from the previous page as is');
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  const raw = Buffer.from(cursor, 'base64url');
  const pos = openE2(ring, orgId, raw) ?? openE1(ring, orgId, raw);
  if (!pos) throw refuse();
  return pos;
}
