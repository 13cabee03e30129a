import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A prefixed random id (`org_`, `fwd_`, ...): 20 base-36 characters, about 103 bits. */
export function newId(prefix: 'org' | 'fwd' | 'rpl'): string {
  const bytes = randomBytes(20);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}

export const ORG_ID_PATTERN = '^org_[A-Za-z0-9_-]{1,60}$';
export const DESTINATION_ID_PATTERN = '^fwd_[A-Za-z0-9_-]{1,60}$';
export const REPLAY_ID_PATTERN = '^rpl_[a-z0-9]{20}$';
