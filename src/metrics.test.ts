import { describe, expect, it } from 'vitest';
import { createMetrics, topOrgs } from './metrics.js';

describe('per-organization queue series stay bounded', () => {
  it('names the n deepest and the n oldest organizations, summed over their destinations', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({
      orgId: `org_${String(i).padStart(2, '0')}`,
      destinationId: `fwd_${i}`,
      pending: i,
      failed: 0,
      oldestDueAgeS: 0,
    }));
    rows.push({ orgId: 'org_05', destinationId: 'fwd_x', pending: 100, failed: 3, oldestDueAgeS: 5 });
    rows.push({ orgId: 'org_01', destinationId: 'fwd_y', pending: 0, failed: 0, oldestDueAgeS: 900 });
    const top = topOrgs(rows, 3);
    expect(top.map((o) => o.orgId)).toEqual(['org_05', 'org_49', 'org_48', 'org_01']);
    expect(top[0]).toEqual({ orgId: 'org_05', pending: 105, failed: 3, oldestDueAgeS: 5 });
    expect(topOrgs(null)).toEqual([]);
  });

  it('names the organizations holding the most dead letters too, though others have more pending', () => {
    // Dead letters are never pruned: an organization holding only those grows the database for good.
    const rows = Array.from({ length: 30 }, (_, i) => ({ orgId: `org_p${i}`, destinationId: `fwd_p${i}`, pending: 1000 + i, failed: 0, oldestDueAgeS: 0 }));
    rows.push({ orgId: 'org_dead', destinationId: 'fwd_dead', pending: 0, failed: 250_000, oldestDueAgeS: 0 });
    const top = topOrgs(rows, 3);
    expect(top.map((o) => o.orgId)).toEqual(['org_p29', 'org_p28', 'org_p27', 'org_dead']);
  });
});

describe('request labels', () => {
  it('count each request on its destination (behind the token) or its SIEM alone, by result', async () => {
    const named = createMetrics(null, { perDestination: true });
    named.requests.inc(named.requestLabels('fwd_1', 'custom', 'ok'));
    named.requests.inc(named.requestLabels('fwd_1', 'custom', 'ok'));
    named.requests.inc(named.requestLabels('fwd_1', 'custom', 'throttled'));
    const text = await named.registry.metrics();
    expect(text).toContain('aegis_delivery_requests_total{destination_id="fwd_1",siem="custom",result="ok"} 2');
    expect(text).toContain('aegis_delivery_requests_total{destination_id="fwd_1",siem="custom",result="throttled"} 1');

    const open = createMetrics(null, { perDestination: false });
    expect(open.requestLabels('fwd_1', 'custom', 'partial')).toEqual({ siem: 'custom', result: 'partial' });
    open.requests.inc(open.requestLabels('fwd_1', 'custom', 'partial'));
    open.requests.inc(open.requestLabels('fwd_2', 'custom', 'partial'));
    const openText = await open.registry.metrics();
    expect(openText).toContain('aegis_delivery_requests_total{siem="custom",result="partial"} 2');
    expect(openText).not.toContain('fwd_');
  });
});

describe('process series', () => {
  it('report the event loop lag the configuration docs describe, with the aegis_ prefix', async () => {
    const m = createMetrics(null, { perDestination: false });
    const text = await m.registry.metrics();
    for (const name of ['aegis_nodejs_eventloop_lag_seconds', 'aegis_nodejs_eventloop_lag_p99_seconds', 'aegis_nodejs_eventloop_lag_max_seconds']) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });
});
