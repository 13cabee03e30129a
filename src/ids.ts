import { createHash, randomBytes } from 'node:crypto';
import { patternMeans } from './events/violation.js';

/** Where random bytes come from: the system's CSPRNG; a test passes a seeded source to repeat a sample. */
export type RandomSource = (n: number) => Uint8Array;

/**
 * The system's CSPRNG, drawn 4 KiB at a time: a call to randomBytes cost more than the id it made
 * (1.4 of 3.6 µs), and ingest makes an id for every record that comes without one. Each byte is
 * handed out once; a new block is drawn, never the old one refilled, so no view of it changes.
 */
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let pooled = 0;
function pooledRandomBytes(n: number): Uint8Array {
  if (n > POOL_SIZE) return randomBytes(n);
  if (pooled + n > pool.length) {
    pool = randomBytes(POOL_SIZE);
    pooled = 0;
  }
  pooled += n;
  return pool.subarray(pooled - n, pooled);
}

/** Lower-case letters and digits: the resource ids that appear in URLs (`org_`, `fwd_`, `rpl_`). */
const BASE36 = 'abcdefghijklmnopqrstuvwxyz0123456789';
/**
 * Lower-case letters alone: the event ids (`pflt_`, `cfg_`). An agent sends a preflight id back in its
 * decision record, where the privacy guard reads every field, and an id the service made must never
 * be refused there. With "-" and "_" about one id in a million spelled a secret's name glued to a
 * random value ("pflt_Pwd-kgItjDQT9v4vnA4ODzSB"); with digits, one in a few million held nine digits in
 * a row among letters, read as an SSN ("pflt_Xu295730084KJi..."); with capitals, one in some 10^11
 * held "AKIA" and 16 more, an AWS access key id ("pflt_AKIAABCDEFGHIJKLMNOPqrst"). Without any of
 * them no detector can match: numbers, a name and its value, and the keys and tokens known by a
 * capitalised prefix all need one. A preflight id's 28: 131 bits, more than a random UUID's 122.
 */
const LOWER_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/**
 * Each event id's length after its prefix: a trail event's is the 24 the published schema fixes
 * (schemas/config-change-event.schema.json: 113 bits), a test event's is shorter (one of a kind per call).
 */
const EVENT_ID_LENGTH = { pflt_: 28, cfg_: 24, pflt_test_: 16 } as const;

/**
 * `n` characters drawn uniformly from `alphabet`: a byte at or past the largest multiple of the
 * alphabet's length is drawn again (`b % 36` over all 256 values made "a" to "d" likelier).
 */
export function randomString(n: number, alphabet: string, random: RandomSource = pooledRandomBytes): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < n) {
    // A few bytes more than needed: one draw nearly always suffices.
    for (const b of random(n - out.length + 4)) {
      if (b < limit && out.length < n) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

/**
 * Bytes drawn from SHA-256(seed, counter): the same seed always gives the same bytes, and so the same
 * id (a preflight's Idempotency-Key: a retry is given the id of its first try). Not a secret: an id is
 * not one.
 */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let buffered: Uint8Array = new Uint8Array(0);
  return (n) => {
    while (buffered.length < n) {
      const block = createHash('sha256').update(seed).update(`\u0000${counter++}`).digest();
      buffered = Buffer.concat([buffered, block]);
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
}

/** A prefixed resource id (`org_`, `fwd_`, `rpl_`): 20 base-36 characters, about 103 bits. */
export function newId(prefix: 'org' | 'fwd' | 'rpl'): string {
  return `${prefix}_${randomString(20, BASE36)}`;
}

/** An event id: `prefix` + lower-case letters (see LOWER_LETTERS). */
export function newEventId(prefix: keyof typeof EVENT_ID_LENGTH, random?: RandomSource): string {
  return `${prefix}${randomString(EVENT_ID_LENGTH[prefix], LOWER_LETTERS, random)}`;
}

export const ORG_ID_PATTERN = '^org_[A-Za-z0-9_-]{1,60}$';
export const DESTINATION_ID_PATTERN = '^fwd_[A-Za-z0-9_-]{1,60}$';
export const REPLAY_ID_PATTERN = '^rpl_[a-z0-9]{20}$';
patternMeans(ORG_ID_PATTERN, 'must be an organization id: "org_" then up to 60 letters, digits, "_" or "-"');
patternMeans(DESTINATION_ID_PATTERN, 'must be a destination id: "fwd_" then up to 60 letters, digits, "_" or "-"');
patternMeans(REPLAY_ID_PATTERN, 'must be a replay id: "rpl_" then 20 lower-case letters or digits');
