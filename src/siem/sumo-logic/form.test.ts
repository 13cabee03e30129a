import { describe, expect, it } from 'vitest';
import { formatHints } from '../catalog.js';
import { correct, find } from '../formTestKit.js';

describe('Sumo Logic format hints', () => {
  const base = correct.sumo_logic;
  it('flags a URL without its token unless x-sumo-token is set', () => {
    find(formatHints('sumo_logic', { ...base, url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http' }), 'url', /no token/);
    expect(
      formatHints('sumo_logic', {
        url: 'https://endpoint4.collection.us2.sumologic.com/receiver/v1/http',
        authHeaderName: 'x-sumo-token',
        authHeaderValue: 'tok',
      }),
    ).toEqual([]);
    find(formatHints('sumo_logic', { ...base, url: 'https://endpoint4.collection.us2.sumologic.com/ui/' }), 'url', /receiver\/v1\/http/);
    find(formatHints('sumo_logic', { ...base, url: 'https://logs.example.com/receiver/v1/http/abc' }), 'url', /sumologic\.com/);
  });
});
