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
    // Stored before the API refused them: a value Node cannot send (above U+00FF) is dropped, never
    // left to fail every request; a Latin-1 one is sent as it always was (it routes the events).
    for (const category of ['security/\u0100egis', 'security/\u{1F512}', 'a\u0000b']) {
      expect(sumoLogicEncoder.encode([sampleEvent(1)], { ...ctx, options: { category } }).headers, category).toEqual({});
    }
    for (const category of ['sécurité', 'a\u0085b']) {
      expect(sumoLogicEncoder.encode([sampleEvent(1)], { ...ctx, options: { category } }).headers, category).toEqual({ 'X-Sumo-Category': category });
    }
    expect(sumoLogicEncoder.describeError!(401, '')).toMatch(/URL/);
  });
});
