import { createCipheriv } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { invalid, notFound } from '../errors.js';
import { orgIdKey } from './repository.js';

/**
 * The numbers an organization sees for rows numbered server-wide: a dead letter's `job_id` (and the
 * `before_id` that pages them), the delivery log's cursor position and an alert webhook's id.
 *
 * Why not the row ids themselves: forwarding_jobs.id and delivery_attempts.id count every tenant's
 * rows. Shown as they are, two dead letters (or two delivery-log cursors) taken an hour apart would
 * tell an organization how many jobs or requests all the other tenants made in that hour. Each id is
 * shown through a keyed permutation of [1, 2^52) instead, under the organization's own random key
 * (orgs.id_key, made by the database when the organization is created): the numbers are unrelated to
 * each other and to any other organization's, and map back to the row exactly, so paging and
 * replaying by number work as before. The key is the organization's, not the deployment's encryption
 * key, so rotating AEGIS_ENCRYPTION_KEY does not change the numbers a client holds.
 *
 * The permutation is a balanced Feistel network over two 26-bit halves, 10 rounds, each round's
 * function one AES-256 block of (kind, round, half) under the key: a pseudorandom permutation, as in
 * NIST's format-preserving FF1 (same construction, without FF1's radix handling, not needed for
 * bits). The kind is in every block, so a job's number and a delivery-log position of the same id
 * differ. 2^52 stays a safe integer for JSON clients; 0 is skipped by walking the cycle, so a shown
 * number is always ≥ 1 (the API's schemas say so).
 */
export type NumberedRow = 'job' | 'attempt' | 'alert';

const HALF_BITS = 26;
const HALF = 2 ** HALF_BITS;
const HALF_MASK = HALF - 1;
const ROUNDS = 10;
/** One past the largest id (and shown number): 2^52. */
export const NUMBER_LIMIT = HALF * HALF;
const KIND_BYTE: Record<NumberedRow, number> = { job: 1, attempt: 2, alert: 3 };

export class TenantNumbers {
  private readonly cipher;
  private readonly block = Buffer.alloc(16);

  constructor(key: Buffer, kind: NumberedRow) {
    if (key.length !== 32) throw new Error('an organization id key is 32 bytes');
    // ECB on one block at a time is AES itself: the round function, not a mode over a message.
    this.cipher = createCipheriv('aes-256-ecb', key, null);
    this.cipher.setAutoPadding(false);
    this.block[0] = KIND_BYTE[kind];
  }

  /** The number shown for row id `id` (1 ≤ id < 2^52). */
  show(id: number): number {
    if (!Number.isSafeInteger(id) || id < 1 || id >= NUMBER_LIMIT) throw new Error(`row id out of the numbered range: ${id}`);
    let n = id;
    do n = this.permute(n, 1);
    while (n === 0);
    return n;
  }

  /**
   * show() of every id of a page at once: each round is one call of the cipher over all of the page's
   * blocks (ECB encrypts each block alone), instead of one per id: a page of 1,000 dead letters cost
   * the API's thread 10 ms one by one.
   */
  showAll(ids: readonly number[]): number[] {
    const n = ids.length;
    const left = new Array<number>(n);
    const right = new Array<number>(n);
    const blocks = Buffer.alloc(16 * n);
    ids.forEach((id, i) => {
      if (!Number.isSafeInteger(id) || id < 1 || id >= NUMBER_LIMIT) throw new Error(`row id out of the numbered range: ${id}`);
      left[i] = Math.floor(id / HALF);
      right[i] = id % HALF;
      blocks[16 * i] = this.block[0]!;
    });
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < n; i++) {
        blocks[16 * i + 1] = round;
        blocks.writeUInt32BE(right[i]!, 16 * i + 2);
      }
      const out = this.cipher.update(blocks);
      for (let i = 0; i < n; i++) {
        const next = (left[i]! ^ (out.readUInt32BE(16 * i) & HALF_MASK)) >>> 0;
        left[i] = right[i]!;
        right[i] = next;
      }
    }
    // 0 is walked past as show() does (one id in 2^52 lands on it).
    return ids.map((id, i) => (left[i] === 0 && right[i] === 0 ? this.show(id) : left[i]! * HALF + right[i]!));
  }

  /** The row id a shown number stands for, or null when no id is shown as it (0, or 2^52 and above). */
  read(shown: number): number | null {
    if (!Number.isSafeInteger(shown) || shown < 1 || shown >= NUMBER_LIMIT) return null;
    let n = shown;
    do n = this.permute(n, -1);
    while (n === 0);
    return n;
  }

  private permute(n: number, direction: 1 | -1): number {
    let left = Math.floor(n / HALF);
    let right = n % HALF;
    if (direction === 1) {
      for (let round = 0; round < ROUNDS; round++) {
        const next = (left ^ this.round(round, right)) >>> 0;
        left = right;
        right = next;
      }
    } else {
      for (let round = ROUNDS - 1; round >= 0; round--) {
        const previous = (right ^ this.round(round, left)) >>> 0;
        right = left;
        left = previous;
      }
    }
    return left * HALF + right;
  }

  private round(round: number, half: number): number {
    this.block[1] = round;
    this.block.writeUInt32BE(half, 2);
    return this.cipher.update(this.block).readUInt32BE(0) & HALF_MASK;
  }
}

/** The row id behind a number a client sent back, or a 400 naming its field when no row is shown as it. */
export function readNumber(numbers: TenantNumbers, shown: number, field: string): number {
  const id = numbers.read(shown);
  if (id === null) throw invalid(field, 'is not a number this API gave out; pass it back as it was given');
  return id;
}

/** The organization's numbers for one kind of server-wide row id; a 404 when there is no such organization. */
export async function tenantNumbers(db: Queryable, orgId: string, kind: NumberedRow): Promise<TenantNumbers> {
  const key = await orgIdKey(db, orgId);
  if (!key) throw notFound('organization');
  return new TenantNumbers(key, kind);
}
