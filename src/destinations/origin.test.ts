import { describe, expect, it } from 'vitest';
import { movesToAnotherOrigin } from './origin.js';

describe('a move to another origin (a stored credential never follows one)', () => {
  const saved = 'https://splunk.example.com:8088/services/collector/event';
  it('is another host, port or scheme', () => {
    expect(movesToAnotherOrigin(saved, 'https://attacker.example.net:8088/services/collector/event')).toBe(true);
    expect(movesToAnotherOrigin(saved, 'https://splunk.example.com:8089/services/collector/event')).toBe(true);
    expect(movesToAnotherOrigin(saved, 'http://splunk.example.com:8088/services/collector/event')).toBe(true);
  });
  it('is not a new path or query on the same origin, nor a spelling of the same host', () => {
    expect(movesToAnotherOrigin(saved, 'https://splunk.example.com:8088/services/collector/raw?channel=x')).toBe(false);
    expect(movesToAnotherOrigin(saved, ' https://SPLUNK.example.com:8088/other ')).toBe(false);
    expect(movesToAnotherOrigin('https://h.example.com/x', 'https://h.example.com:443/y')).toBe(false);
  });
  it('is not yet a URL while it is being typed', () => {
    expect(movesToAnotherOrigin(saved, 'https://')).toBe(false);
    expect(movesToAnotherOrigin(saved, '')).toBe(false);
  });
});
