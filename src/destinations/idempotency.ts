// A destination created with an Idempotency-Key (migration 0027): what is kept of the key and of the
// request, so that a retry is recognised without keeping either.
import { createHash } from 'node:crypto';
import type { CreateDestinationBody } from '../api/schemas/destinations.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The key as stored: its digest (a key is the client's; it is neither kept nor logged as sent). */
export const idempotencyKeyDigest = (key: string): Buffer => sha256(`destination idempotency key\u0000${key}`);

/**
 * The request as stored: the digest of its settings, the secrets left out (auth_header_value,
 * auth.client_secret), so that no digest of a credential, which could be checked against guesses, is
 * kept beside the sealed credential. A retry differing only in its secret is taken as the same request.
 */
export function createRequestDigest(body: CreateDestinationBody): Buffer {
  const { auth_header_value: _secret, ...rest } = body;
  const plain = rest.auth ? { ...rest, auth: { ...rest.auth, client_secret: undefined } } : rest;
  return sha256(canonicalJson(plain));
}

/** JSON with every object's keys sorted and undefined members left out: one text per value. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
