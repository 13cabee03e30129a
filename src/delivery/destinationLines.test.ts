import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../logger.js';
import { warnForDestination } from './destinationLines.js';

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('warnForDestination', () => {
  it('writes the first line of a destination and kind at once, then holds the rest back within the minute', async () => {
    const { logger, lines } = captured();
    // A SIEM failing every other request dead-letters a claim's events claim after claim.
    for (let i = 0; i < 50; i++) warnForDestination(logger, 'dead-lettered', 'fwd_lines_a', { dead_lettered: 1, error: 'HTTP 400' }, 'events dead-lettered');
    warnForDestination(logger, 'dead-lettered', 'fwd_lines_b', { dead_lettered: 3 }, 'events dead-lettered');
    warnForDestination(logger, 'ack-timeout', 'fwd_lines_a', { error: 'no ack' }, 'Splunk did not acknowledge a request in time');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.destination_id, l.msg])).toEqual([
      ['fwd_lines_a', 'events dead-lettered (at most one such line a minute per destination)'],
      ['fwd_lines_b', 'events dead-lettered (at most one such line a minute per destination)'],
      ['fwd_lines_a', 'Splunk did not acknowledge a request in time (at most one such line a minute per destination)'],
    ]);
    expect(lines[0]).toMatchObject({ level: 40, dead_lettered: 1, error: 'HTTP 400' });
    expect(lines[0]).not.toHaveProperty('lines_held_back');
  });
});
