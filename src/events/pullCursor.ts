import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../crypto/keyring.js';
import { invalid } from '../errors.js';
import type { PullPosition } from './pull.js';

/**
 * The pull API's opaque cursor: a position in an organization's recording order, authenticated.
 *
 * Layout: base64url(MAC (16 bytes) || "e1.<txid>.<event id>"). The MAC is HMAC-SHA-256 over the
 * organization id and the position, keyed by a key derived (HKDF, its own label) from each key of
 * the encryption key ring: every API process of a deployment shares the ring, so a cursor works on
 * any of them and after a restart; rotating in a new first key keeps old cursors valid while the
 * old key stays in the ring. A cursor altered in any byte, or taken to another organization, is
 * refused with a 400 instead of silently starting somewhere else.
 */
const VERSION = 'e1.';
const MAC_BYTES = 16;
/** The longest cursor the API accepts (a position is a 20-digit txid and an event id of at most 200 characters). */
export const MAX_CURSOR_LENGTH = 400;

const derived = new WeakMap<Buffer, Buffer>();
function cursorKey(key: Buffer): Buffer {
  let k = derived.get(key);
  if (!k) {
    k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'aegis audit-events pull cursor v1', 32));
    derived.set(key, k);
  }
  return k;
}

function mac(key: Buffer, orgId: string, payload: string): Buffer {
  return createHmac('sha256', cursorKey(key)).update(`${orgId}\n${payload}`).digest().subarray(0, MAC_BYTES);
}

export function encodePullCursor(ring: KeyRing, orgId: string, pos: PullPosition): string {
  const payload = `${VERSION}${pos.txid}.${pos.id}`;
  return Buffer.concat([mac(ring.primary.key, orgId, payload), Buffer.from(payload, 'utf8')]).toString('base64url');
}

/** The position a cursor names, or a 400 naming `cursor` when this API did not give it out for this organization. */
export function decodePullCursor(ring: KeyRing, orgId: string, cursor: string): PullPosition {
  const refuse = () => invalid('cursor', 'is not a cursor this API gave out for this organization; pass next_cursor from the previous page as is');
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= MAC_BYTES) throw refuse();
  const tag = raw.subarray(0, MAC_BYTES);
  const payload = raw.subarray(MAC_BYTES).toString('utf8');
  const authentic = [...ring.byId.values()].some((k) => timingSafeEqual(mac(k.key, orgId, payload), tag));
  if (!authentic) throw refuse();
  const m = /^e1\.(0|[1-9][0-9]{0,19})\.(.{0,200})$/s.exec(payload);
  if (!m) throw refuse();
  return { txid: m[1]!, id: m[2]! };
}
