import { describe, expect, it } from 'vitest';
import { filtersFromSearch, fromLocalInput, LOG_PATH, logHref, NO_FILTERS, toLocalInput } from './deliveryLog.js';

describe('delivery log address', () => {
  it('the failing hint links to failures since the first failure, and the dialog reads it back', () => {
    const href = logHref('fwd_abc', { outcome: 'failed', since: '2026-11-30T08:01:02.345Z' });
    expect(href).toBe('/settings/siem-forwarding/fwd_abc/log?outcome=failed&since=2026-11-30T08%3A01%3A02.345Z');
    const [path, search] = href.split('?');
    expect(LOG_PATH.exec(path!)?.[1]).toBe('fwd_abc');
    expect(filtersFromSearch(`?${search}`)).toEqual({ outcome: 'failed', since: '2026-11-30T08:01:02.345Z', until: '' });
  });
  it('unreadable filters are left out', () => {
    expect(filtersFromSearch('?outcome=maybe&since=yesterday&until=2026-13-45')).toEqual(NO_FILTERS);
    expect(logHref('fwd_x')).toBe('/settings/siem-forwarding/fwd_x/log');
  });
  it('datetime-local round trip rounds down to the second, so a since bound keeps its instant', () => {
    const iso = '2026-11-30T08:01:02.345Z';
    const back = fromLocalInput(toLocalInput(iso));
    expect(Date.parse(back)).toBeLessThanOrEqual(Date.parse(iso));
    expect(Date.parse(iso) - Date.parse(back)).toBeLessThan(1000);
    expect(fromLocalInput('')).toBe('');
    expect(fromLocalInput('nonsense')).toBe('');
  });
});
