import { QUEUE_COUNT_CAP } from '../../src/queue/countCap.js';

/** "3 min ago", "2 h ago", or a date for anything older than a day. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  return new Date(t).toLocaleString();
}

/** How far behind a queue is ("3 min", "2 h"), or null when its oldest event is under a minute old. */
export function behind(oldestIso: string | null, now = Date.now()): string | null {
  if (!oldestIso) return null;
  const s = Math.round((now - Date.parse(oldestIso)) / 1000);
  if (s < 60) return null;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A queue count from the API: "10,000+" once it reached the cap (the API then means "at least"), else the number. */
export function queueCount(n: number): string {
  return n >= QUEUE_COUNT_CAP ? `${QUEUE_COUNT_CAP.toLocaleString('en-US')}+` : String(n);
}

/** "1 event", "3 events", "10,000+ events": plural() for a queue count that may have reached the cap. */
export function queuePlural(n: number, one: string, many = `${one}s`): string {
  return n >= QUEUE_COUNT_CAP ? `${queueCount(n)} ${many}` : plural(n, one, many);
}

/** An instant for a sentence ("Paused: failing since 30 Nov 2026, 08:01"): the browser's locale and time zone. */
export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
