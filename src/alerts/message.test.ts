import { describe, expect, it } from 'vitest';
import { composeAlertMessage, dashboardLink } from './message.js';
import { isEmailAddress } from './settings.js';

const item = (destination_id: string, kind: 'failing' | 'recovered' | 'dead_letters' | 'paused', hint: string | null = 'Authentication failed — check the token.') => ({
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
});

describe('e-mail addresses', () => {
  it.each(['soc@example.com', 'first.last+alerts@sub.example.co.uk', "o'brien@example.ie"])('accepts %s', (e) => expect(isEmailAddress(e)).toBe(true));
  it.each(['', 'plain', '@example.com', 'a@localhost', 'a b@example.com', 'a@example.com\r\nBcc: b@example.com', 'Name <a@example.com>', 'a@example.com,b@example.com', 'a..b@example.com', `${'x'.repeat(65)}@example.com`])(
    'refuses %j',
    (e) => expect(isEmailAddress(e)).toBe(false),
  );
});
