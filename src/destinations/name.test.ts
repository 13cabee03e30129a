import { describe, expect, it } from 'vitest';
import { checkDestinationName } from './name.js';

describe("a destination's name", () => {
  it('refuses what could make it render as another name, with the event schema free text rule', () => {
    for (const c of ['\t', '\n', '\u0085', '\u009b', '\u2028', '\u202e', '\u2066', '\u200b', '\u2060', '\ufeff'])
      expect(() => checkDestinationName(`Splunk${c}prod`), JSON.stringify(c)).toThrow(
        'name: must not contain line breaks, tabs, other control characters, invisible spaces or bidirectional marks',
      );
  });

  it('keeps letters of every script, joiners and the weak direction marks, trimmed', () => {
    for (const name of ['Splunk prod – SOC', 'زهرا\u200cمحمدی', 'שלום\u200f SIEM', '👩\u200d💻 dev']) expect(checkDestinationName(`  ${name} `)).toBe(name);
    expect(checkDestinationName(null)).toBeNull();
  });
});
