// The delivery log's address and filters, pure: the card's failing hint links to the log filtered
// to the current failing streak, and the dialog reads its filters back from that address.

export const LOG_PATH = /^\/settings\/siem-forwarding\/([^/?]+)\/log$/;

export interface LogFilters {
  outcome: '' | 'failed' | 'delivered';
  /** RFC 3339 or ''. Inclusive. */
  since: string;
  /** RFC 3339 or ''. Exclusive. */
  until: string;
}

/** No filter: every request. Frozen, since the log dialog shares it as its cleared state. */
export const NO_FILTERS: Readonly<LogFilters> = Object.freeze({ outcome: '', since: '', until: '' });

/** The log of a destination, optionally filtered: `/settings/siem-forwarding/<id>/log?outcome=failed&since=…`. */
export function logHref(destinationId: string, f: Partial<LogFilters> = {}): string {
  const q = new URLSearchParams();
  if (f.outcome) q.set('outcome', f.outcome);
  if (f.since) q.set('since', f.since);
  if (f.until) q.set('until', f.until);
  const qs = q.toString();
  return `/settings/siem-forwarding/${encodeURIComponent(destinationId)}/log${qs ? `?${qs}` : ''}`;
}

const validTime = (v: string | null): string => (v && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : '');

/** Filters from the log address's query string; anything unreadable is left out. */
export function filtersFromSearch(search: string): LogFilters {
  const q = new URLSearchParams(search);
  const outcome = q.get('outcome');
  return {
    outcome: outcome === 'failed' || outcome === 'delivered' ? outcome : '',
    since: validTime(q.get('since')),
    until: validTime(q.get('until')),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * An instant as a datetime-local input's value (the browser's time zone, to the second). Rounded
 * down to the second: as a "since" bound it then still includes the instant itself (the first failure).
 */
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local input's value (browser time zone) as RFC 3339, or '' when empty or unreadable. */
export function fromLocalInput(value: string): string {
  if (!value) return '';
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
}
