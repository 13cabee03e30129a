import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../logger.js';
import { reportInternalSendError, warnForDestination } from './destinationLines.js';
import { INTERNAL_SEND_ERROR, internalError } from './interpretAnswer.js';

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

describe('reportInternalSendError', () => {
  it("tells the operator the error's class and where it was thrown, never its message, once a minute per destination", async () => {
    const { logger, lines } = captured();
    // undici quotes an invalid header value in its message: here, a credential.
    const err = new TypeError('Headers.append: "Bearer siem-secret-0a9f\n" is an invalid header value.');
    for (let i = 0; i < 5; i++) reportInternalSendError(logger, { id: 'fwd_internal_a', orgId: 'org_a' }, err);
    reportInternalSendError(logger, { id: 'fwd_internal_b', orgId: 'org_b' }, 'not an Error');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 50, org_id: 'org_a', destination_id: 'fwd_internal_a', error_class: 'TypeError' });
    expect((lines[0]!.at as string[]).length).toBeGreaterThan(0);
    expect((lines[0]!.at as string[]).every((f) => f.startsWith('at '))).toBe(true);
    expect(lines[1]).toMatchObject({ destination_id: 'fwd_internal_b', error_class: 'string', at: [] });
    expect(JSON.stringify(lines)).not.toContain('siem-secret');
  });

  it('the tenant reads a fixed sentence, not the error', () => {
    const out = internalError([{} as never, {} as never]);
    expect(out.error).toBe(INTERNAL_SEND_ERROR);
    expect(out.items.map((i) => (i.ok ? null : i.reason))).toEqual([INTERNAL_SEND_ERROR, INTERNAL_SEND_ERROR]);
    expect(INTERNAL_SEND_ERROR).not.toMatch(/AEGIS_|Error:/);
  });
});
