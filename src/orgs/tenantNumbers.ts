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
  private readonly kindByte: number;

  constructor(key: Buffer, kind: NumberedRow) {
    if (key.length !== 32) throw new Error('an organization id key is 32 bytes');
    // ECB encrypts each block alone: AES itself, the round function, for many blocks in one call.
    this.cipher = createCipheriv('aes-256-ecb', key, null);
    this.cipher.setAutoPadding(false);
    this.kindByte = KIND_BYTE[kind];
  }

  /** The number shown for row id `id` (1 ≤ id < 2^52). */
  show(id: number): number {
    return this.showAll([id])[0]!;
  }

  /**
   * show() of every id of a page at once: each round is one call of the cipher over all of the page's
   * blocks, not one per id (a page of 1,000 dead letters cost the API's thread 10 ms one by one).
   */
  showAll(ids: readonly number[]): number[] {
    for (const id of ids) if (!inRange(id)) throw new Error(`row id out of the numbered range: ${id}`);
    return this.permuteAll(ids, 1);
  }

  /** The row id a shown number stands for, or null when no id is shown as it (0, or 2^52 and above). */
  read(shown: number): number | null {
    return this.readAll([shown])[0]!;
  }

  /** read() of many numbers at once (a replay's job_ids, up to 1,000). */
  readAll(shown: readonly number[]): Array<number | null> {
    const ids = this.permuteAll(shown.filter(inRange), -1);
    let k = 0;
    return shown.map((n) => (inRange(n) ? ids[k++]! : null));
  }

  /**
   * The permutation (direction 1) or its inverse (-1) of numbers in [1, 2^52), all at once. 0 is
   * walked past: a result of 0 is permuted again (one number in 2^52 lands on it), which keeps the
   * map a bijection of [1, 2^52).
   */
  private permuteAll(ns: readonly number[], direction: 1 | -1): number[] {
    const out = this.feistel(ns, direction);
    for (;;) {
      const zeros = out.flatMap((n, i) => (n === 0 ? [i] : []));
      if (zeros.length === 0) return out;
      const again = this.feistel(
        zeros.map(() => 0),
        direction,
      );
      zeros.forEach((i, k) => (out[i] = again[k]!));
    }
  }

  private feistel(ns: readonly number[], direction: 1 | -1): number[] {
    const count = ns.length;
    const left = ns.map((n) => Math.floor(n / HALF));
    const right = ns.map((n) => n % HALF);
    const blocks = Buffer.alloc(16 * count);
    for (let i = 0; i < count; i++) blocks[16 * i] = this.kindByte;
    for (let step = 0; step < ROUNDS; step++) {
      const round = direction === 1 ? step : ROUNDS - 1 - step;
      // Forward, the round function reads the right half; backward, the left (its value a round ago).
      const read = direction === 1 ? right : left;
      for (let i = 0; i < count; i++) {
        blocks[16 * i + 1] = round;
        blocks.writeUInt32BE(read[i]!, 16 * i + 2);
      }
      const f = this.cipher.update(blocks);
      for (let i = 0; i < count; i++) {
        const mixed = f.readUInt32BE(16 * i) & HALF_MASK;
        if (direction === 1) [left[i], right[i]] = [right[i]!, (left[i]! ^ mixed) >>> 0];
        else [left[i], right[i]] = [(right[i]! ^ mixed) >>> 0, left[i]!];
      }
    }
    return left.map((l, i) => l * HALF + right[i]!);
  }
}

const inRange = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n < NUMBER_LIMIT;

/** The row ids behind numbers a client sent back, or a 400 naming their field when one is no number this API gives. */
export function readNumbers(numbers: TenantNumbers, shown: readonly number[], field: string): number[] {
  return numbers.readAll(shown).map((id) => {
    if (id === null) throw invalid(field, 'is not a number this API gave out; pass it back as it was given');
    return id;
  });
}

/** readNumbers of one number. */
export function readNumber(numbers: TenantNumbers, shown: number, field: string): number {
  return readNumbers(numbers, [shown], field)[0]!;
}

/** The organization's numbers for one kind of server-wide row id; a 404 when there is no such organization. */
export async function tenantNumbers(db: Queryable, orgId: string, kind: NumberedRow): Promise<TenantNumbers> {
  const key = await orgIdKey(db, orgId);
  if (!key) throw notFound('organization');
  return new TenantNumbers(key, kind);
}
