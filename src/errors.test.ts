import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, fieldPointer } from './errors.js';

describe('ERROR_STATUS is the one list of error codes', () => {
  it('docs/errors.md lists exactly its codes, each with its status', () => {
    // A docs review found four codes a client can get (405, 408, 431, forbidden) in no document.
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    const listed = Object.entries(ERROR_STATUS).map(([code, status]) => `${code} ${status}`);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...listed].sort());
  });
});

describe('fieldPointer: a refused field as the JSON Pointer error.details gives', () => {
  it('reads every spelling the refusals use', () => {
    expect(fieldPointer('body')).toBe('');
    expect(fieldPointer('url')).toBe('/url');
    expect(fieldPointer('auth.token_url')).toBe('/auth/token_url');
    expect(fieldPointer('events[3].summary')).toBe('/events/3/summary');
    expect(fieldPointer('body[2]')).toBe('/2');
    expect(fieldPointer('/filter/aegis.actor_id/$in/1')).toBe('/filter/aegis.actor_id/$in/1');
    // RFC 6901's escapes for a name holding "~" or "/".
    expect(fieldPointer('options.a~b/c')).toBe('/options/a~0b~1c');
  });
});
