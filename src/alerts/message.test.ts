import { describe, expect, it } from 'vitest';
import { composeAlertMessage, dashboardLink } from './message.js';
import { isEmailAddress } from './settings.js';

const item = (
  destination_id: string,
  kind: 'failing' | 'recovered' | 'dead_letters' | 'paused',
  hint: string | null = 'Authentication failed — check the token.',
) => ({
  destination_id,
  kind,
  created_at: new Date('2026-01-01T00:00:00Z'),
  details: { destination_name: 'Splunk prod', siem: 'splunk_hec', hint, failed_events: 3 },
});

describe('alert message', () => {
  it('one alert: the subject names the destination and the change; the hint and the dashboard link are in the text', () => {
    const m = composeAlertMessage('org_a', 'https://aegis.example.com', [item('fwd_1', 'failing')]);
    expect(m.subject).toBe('[Aegis] Splunk prod (Splunk HEC) is failing');
    expect(m.text).toContain('What to do: Authentication failed — check the token.');
    expect(m.text).toContain('https://aegis.example.com/settings/siem-forwarding/fwd_1/edit');
    expect(m.webhook.alerts[0]).toMatchObject({ kind: 'failing', destination_id: 'fwd_1', hint: 'Authentication failed — check the token.' });
  });

  it('many alerts: one digest listing each, counting destinations', () => {
    const m = composeAlertMessage('org_a', 'https://a.example', [item('fwd_1', 'failing'), item('fwd_2', 'failing'), item('fwd_1', 'dead_letters')]);
    expect(m.subject).toBe('[Aegis] 3 destination alerts for 2 destination(s)');
    expect(m.webhook.alerts.map((a) => a.kind)).toEqual(['failing', 'failing', 'dead_letters']);
    expect(m.webhook.alerts[2]!.failed_events).toBe(3);
    expect(m.text.match(/Open in the dashboard/g)).toHaveLength(3);
  });

  it('a recovery carries no stale hint; a name can never break the subject line', () => {
    const a = { ...item('fwd_1', 'recovered'), details: { ...item('fwd_1', 'recovered').details, destination_name: 'evil\r\nBcc: x@example.com' } };
    const m = composeAlertMessage('org_a', 'https://a.example', [a]);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.webhook.alerts[0]!.hint).toBeNull();
    expect(dashboardLink('https://a.example', 'fwd/x')).toBe('https://a.example/settings/siem-forwarding/fwd%2Fx/edit');
  });

  it('a hint can never start lines of its own in the text, nor carry kilobytes', () => {
    // A last_error stored before token failures were clipped: a token endpoint's text, verbatim.
    const hint = `OAuth2 token request to t.example failed: (invalid_client\r\n\r\n  What to do: e-mail your API key to help@evil.example\r\nOpen in the dashboard: https://evil.example\n.\u2028x${'A'.repeat(60_000)}`;
    const m = composeAlertMessage('org_a', 'https://a.example', [item('fwd_1', 'failing', hint)]);
    const lines = m.text.split('\n');
    expect(lines.filter((l) => l.trimStart().startsWith('What to do'))).toHaveLength(1);
    expect(lines.filter((l) => l.trimStart().startsWith('Open in the dashboard'))).toEqual([
      '  Open in the dashboard: https://a.example/settings/siem-forwarding/fwd_1/edit',
    ]);
    expect(m.text).not.toMatch(/\r|\u2028/);
    expect(m.text.length).toBeLessThan(3_000);
    expect(m.webhook.alerts[0]!.hint).not.toMatch(/[\r\n\u2028]/);
    expect(m.webhook.alerts[0]!.hint!.length).toBeLessThanOrEqual(1_000);
  });
});

describe('hold limit alerts', () => {
  const details = {
    destination_name: 'Splunk prod',
    siem: 'splunk_hec',
    hint: 'Authentication failed.',
    failing_since: '2026-01-01T00:00:00.000Z',
    hold_limit_at: '2026-01-08T00:00:00.000Z',
    max_hold_hours: 168,
  };
  const at = (iso: string) => new Date(iso);
  it('warnings say since when, and when the hold limit pauses it', () => {
    const m = composeAlertMessage('org_a', 'https://a.example', [
      { destination_id: 'fwd_1', kind: 'hold_limit_approaching', created_at: at('2026-01-07T00:00:00Z'), details },
    ]);
    expect(m.subject).toBe('[Aegis] Splunk prod (Splunk HEC) is approaching the hold limit');
    expect(m.text).toContain('At 2026-01-08T00:00:00.000Z (in 24 h) the hold limit (168 h) pauses this destination');
    expect(m.webhook.alerts[0]).toMatchObject({
      kind: 'hold_limit_approaching',
      failing_since: details.failing_since,
      hold_limit_at: details.hold_limit_at,
      hint: 'Authentication failed.',
    });
    const one = composeAlertMessage('org_a', 'https://a.example', [
      { destination_id: 'fwd_1', kind: 'failing_1h', created_at: at('2026-01-01T01:00:00Z'), details },
    ]);
    expect(one.subject).toBe('[Aegis] Splunk prod (Splunk HEC) has been failing for 1 hour');
    expect(one.text).toContain('Every request has failed since 2026-01-01T00:00:00.000Z');
  });
  it('the pause says how many events were dead-lettered and how to resume', () => {
    const m = composeAlertMessage('org_a', 'https://a.example', [
      { destination_id: 'fwd_1', kind: 'hold_limit_paused', created_at: at('2026-01-08T00:00:00Z'), details: { ...details, failed_events: 12 } },
    ]);
    expect(m.subject).toBe('[Aegis] Splunk prod (Splunk HEC) is paused by the hold limit');
    expect(m.text).toContain('12 queued event(s) are dead-lettered');
    expect(m.text).toContain('replay the dead-lettered events to resume');
    expect(m.webhook.alerts[0]).toMatchObject({ failed_events: 12, failing_since: details.failing_since, hold_limit_at: null });
  });
});

describe('e-mail addresses', () => {
  it.each(['soc@example.com', 'first.last+alerts@sub.example.co.uk', "o'brien@example.ie"])('accepts %s', (e) => expect(isEmailAddress(e)).toBe(true));
  it.each([
    '',
    'plain',
    '@example.com',
    'a@localhost',
    'a b@example.com',
    'a@example.com\r\nBcc: b@example.com',
    'Name <a@example.com>',
    'a@example.com,b@example.com',
    'a..b@example.com',
    `${'x'.repeat(65)}@example.com`,
  ])('refuses %j', (e) => expect(isEmailAddress(e)).toBe(false));

  it('an alert standing for several changes (a flap) says the latest state, how many changes and since when', () => {
    const a = { ...item('fwd_1', 'recovered'), details: { ...item('fwd_1', 'recovered').details, changes: 24, changed_at: '2026-01-01T00:05:00.000Z' } };
    const m = composeAlertMessage('org_a', 'https://a.example', [a]);
    expect(m.subject).toBe('[Aegis] Splunk prod (Splunk HEC) has recovered');
    expect(m.webhook.alerts[0]).toMatchObject({ kind: 'recovered', changes: 24, occurred_at: '2026-01-01T00:05:00.000Z' });
    expect(m.text).toContain('Its state changed 24 times since 2026-01-01T00:00:00.000Z; this is the latest.');
    expect(composeAlertMessage('org_a', 'https://a.example', [item('fwd_1', 'failing')]).webhook.alerts[0]!.changes).toBe(1);
  });
});
