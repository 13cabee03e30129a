import { describe, expect, it } from 'vitest';
import { draftFilter, draftFrom, previewText } from './filterDraft.js';

describe('the filter as the destination form holds it', () => {
  it('opens a builder filter in the builder and anything else as JSON, unchanged', () => {
    expect(draftFrom(null)).toMatchObject({ advanced: false, json: '' });
    const built = draftFrom({ 'aegis.decision': { $in: ['BLOCKED'] } });
    expect(built.advanced).toBe(false);
    expect(draftFilter(built)).toEqual({ ok: true, filter: { 'aegis.decision': { $in: ['BLOCKED'] } } });
    const custom = { 'aegis.input_size_bytes': { $gt: 100 } };
    const json = draftFrom(custom);
    expect(json.advanced).toBe(true);
    expect(draftFilter(json)).toEqual({ ok: true, filter: custom });
  });

  it('empty JSON is every event; text that is not a JSON object is caught before sending', () => {
    const base = draftFrom(null);
    expect(draftFilter({ ...base, advanced: true, json: '  ' })).toEqual({ ok: true, filter: null });
    expect(draftFilter({ ...base, advanced: true, json: 'null' })).toEqual({ ok: true, filter: null });
    expect(draftFilter({ ...base, advanced: true, json: '{"aegis.decision": ' })).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
    expect(draftFilter({ ...base, advanced: true, json: '["BLOCKED"]' })).toMatchObject({ ok: false, error: expect.stringMatching(/JSON object/) });
  });

  it('says how many of how many', () => {
    expect(previewText(3, 1000)).toBe('Matches 3 of the last 1,000 events.');
    expect(previewText(1, 1)).toBe('Matches 1 of the last 1 event.');
    expect(previewText(0, 0)).toMatch(/No events recorded yet/);
  });
});
