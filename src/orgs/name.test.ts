import { describe, expect, it } from 'vitest';
import { checkOrgName, ORG_NAME_MAX } from './name.js';

describe('an organization name', () => {
  it('is kept trimmed, in any script, up to ORG_NAME_MAX characters', () => {
    expect(checkOrgName('  Acme Corp ')).toEqual({ name: 'Acme Corp' });
    expect(checkOrgName('Société Générale — 東京')).toEqual({ name: 'Société Générale — 東京' });
    expect(checkOrgName('😀'.repeat(ORG_NAME_MAX))).toEqual({ name: '😀'.repeat(ORG_NAME_MAX) });
  });

  // A review's: `orgs create --name $'Evil\e[31mRED\e[0m\nFAKE'` was stored as given.
  it.each(['Evil\u001b[31mRED\u001b[0m', 'Two\nlines', 'Tab\there', 'A\u202eevil', 'Zero\u200bwidth', 'C1\u0085'])(
    'refuses %j: controls, invisible spaces, bidi marks',
    (raw) => {
      expect(checkOrgName(raw)).toEqual({ problem: expect.stringMatching(/^must not contain line breaks/) as unknown });
    },
  );

  it('refuses a blank or too long name', () => {
    expect(checkOrgName('   ')).toEqual({ problem: `must be 1 to ${ORG_NAME_MAX} characters` });
    expect(checkOrgName('x'.repeat(ORG_NAME_MAX + 1))).toEqual({ problem: `must be 1 to ${ORG_NAME_MAX} characters` });
  });
});
