import { describe, expect, it } from 'vitest';
import { sumoLogicEncoder } from './encoder.js';
import type { EncodeContext } from '../types.js';
import { sampleEvent } from '../testEvents.js';

const ctx: EncodeContext = { hostname: 'aegis-test', options: {}, userAgent: 'aegis-audit-stream/test' };

describe('Sumo Logic', () => {
  it('sends compact NDJSON and the optional X-Sumo headers, dropping unsafe values', () => {
    const req = sumoLogicEncoder.encode([sampleEvent(1), sampleEvent(2)], {
      ...ctx,
      options: { category: 'security/aegis', sourceName: 'aegis', sourceHost: 'aegis-1', fields: { env: 'prod', team: 'sec' } },
    });
    expect(req.body.split('\n')).toHaveLength(3);
    expect(req.body).not.toMatch(/\n\s+"/);
    expect(req.headers).toEqual({
      'X-Sumo-Category': 'security/aegis',
      'X-Sumo-Name': 'aegis',
      'X-Sumo-Host': 'aegis-1',
      'X-Sumo-Fields': 'env=prod,team=sec',
    });
    const bad = sumoLogicEncoder.encode([sampleEvent(1)], { ...ctx, options: { category: 'a\r\nX-Evil: 1' } });
    expect(bad.headers).toEqual({});
    // Stored before the API refused them: a value Node cannot send (above U+00FF) or would send as
    // Latin-1 bytes is dropped, never left to fail every request.
    for (const category of ['security/\u0100egis', 'sécurité', 'a\u0085b']) {
      expect(sumoLogicEncoder.encode([sampleEvent(1)], { ...ctx, options: { category } }).headers, category).toEqual({});
    }
    expect(sumoLogicEncoder.describeError!(401, '')).toMatch(/URL/);
  });
});
