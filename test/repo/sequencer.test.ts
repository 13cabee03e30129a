import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LONGEST_FIRST } from '../setup/sequencer.js';

/**
 * The sequencer matches its list by path suffix and silently skips a name that matches nothing, so a
 * renamed or split file would drop out of the longest-first order unnoticed.
 */
describe('test/setup/sequencer.ts', () => {
  const root = new URL('../../', import.meta.url);
  it.each(LONGEST_FIRST)('%s exists and is run by the unit and integration config', (path) => {
    expect(existsSync(new URL(path, root))).toBe(true);
    expect(path).toMatch(/\.test\.ts$/);
    expect(path).not.toMatch(/^test\/(faults|e2e)\//);
  });
  it('names each file once', () => {
    expect(new Set(LONGEST_FIRST).size).toBe(LONGEST_FIRST.length);
  });
});
