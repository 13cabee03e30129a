// The date-times the API takes and the form events store them in: one parser for every route and for
// the filters' time bounds. Browser-safe (no Node imports): the dashboard's filter builder uses it too.

// RFC 3339 (section 5.6) date-time: full-date, "T" (or "t", or the space the RFC allows for
// readability), full-time with a zone: "Z" or a numeric offset with its colon. Nothing looser: not the
// ISO 8601 basic offsets "+05" and "+0530" (the schema's "date-time" format check and JavaScript take
// them), not a missing zone, not a year past 4 digits.
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The instants the API takes, as UTC: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. Before 1970 a
 * Unix time is negative, and SIEM formats carry epoch times (OCSF's time, Splunk's); no audit event
 * happens then. After 9999 the year takes 5 digits, which RFC 3339 text (the @timestamp of every wire
 * event) cannot write. Both ends are also well inside what PostgreSQL's timestamptz stores and parses
 * (year 0000, which JavaScript reads as 1 BC, is not). Checked on the instant, after the offset:
 * "0001-01-01T00:00:00+14:00" is a time in year 0.
 */
export const DATE_TIME_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) } as const;
export const NOT_A_DATE_TIME = 'is not an RFC 3339 date-time (e.g. 2026-11-30T10:00:00Z)';
export const DATE_TIME_OUT_OF_RANGE = 'is outside the accepted range, 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

/** `micros`: the microseconds past the date's millisecond (digits 4 to 6 of the fraction), which a Date cannot hold. */
export type ParsedDateTime = { ok: true; date: Date; micros: number } | { ok: false; problem: string };

/**
 * Parses a date-time the API takes (occurred_at, since/until, from/to): the one parser, so every
 * route accepts the same texts and reads them the same way. Answers the problem when it is not an RFC
 * 3339 date-time or not in DATE_TIME_RANGE. A leap second (":60", which RFC 3339 allows at 23:59 UTC)
 * becomes the last millisecond of its minute, as JavaScript dates and PostgreSQL cannot hold it; digits
 * past milliseconds are dropped (JavaScript dates hold milliseconds). Never echoes the value.
 */
export function parseDateTime(value: string): ParsedDateTime {
  const m = RFC3339.exec(value);
  if (!m) return { ok: false, problem: NOT_A_DATE_TIME };
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const offset = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const leapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 && leapYear ? 29 : DAYS_IN_MONTH[month - 1];
  if (daysInMonth === undefined || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) {
    return { ok: false, problem: NOT_A_DATE_TIME };
  }
  if (m[8] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return { ok: false, problem: NOT_A_DATE_TIME };
  // A leap second is inserted at the end of a UTC day: ":60" anywhere else names no instant.
  if (second === 60 && (((hour * 60 + minute - offset) % 1440) + 1440) % 1440 !== 1439) return { ok: false, problem: NOT_A_DATE_TIME };
  // Date.UTC reads years 0 to 99 as 1900 to 1999; any year before 1969 is out of range whatever the
  // offset (at most a day), so it is answered before Date.UTC could misread it.
  if (year < 1969) return { ok: false, problem: DATE_TIME_OUT_OF_RANGE };
  const ms = second === 60 ? 999 : m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const t = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms) - offset * 60_000;
  if (t < DATE_TIME_RANGE.min || t > DATE_TIME_RANGE.max) return { ok: false, problem: DATE_TIME_OUT_OF_RANGE };
  const micros = second === 60 || m[7] === undefined ? 0 : Number(m[7].slice(3, 6).padEnd(3, '0'));
  return { ok: true, date: new Date(t), micros };
}

/**
 * A parsed instant as a bound on @timestamp, which holds whole milliseconds (the API keeps none of an
 * agent's digits past them, and the service's own times are JavaScript's): the first millisecond at or
 * after it. For a whole-millisecond time t, `t >= bound` and `t < bound` then read as they would
 * against the instant itself, both ends of an [inclusive, exclusive) window. Dropping the digits
 * instead (rounding down) let a `since` of .123001 take an event of .123 and a `to` of .123999 leave
 * it out.
 */
export function timestampBound(parsed: { date: Date; micros: number }): Date {
  if (parsed.micros === 0) return parsed.date;
  // Within the range: the millisecond after its last one is in year 10000, which no timestamptz
  // parameter takes (a 500). So a bound inside that last millisecond reads as the millisecond itself,
  // off only for an event stamped exactly 9999-12-31T23:59:59.999Z.
  return new Date(Math.min(parsed.date.getTime() + 1, DATE_TIME_RANGE.max));
}

/**
 * A parsed instant to the microsecond, as @timestamp writes instants (storedTimestampText: UTC, six
 * fractional digits, "+00:00"): text comparison is time comparison, and a timestamptz parameter
 * reads it whole, where a Date would drop the microseconds.
 */
export function instantText(parsed: { date: Date; micros: number }): string {
  return `${storedTimestampText(parsed.date).slice(0, 23)}${String(parsed.micros).padStart(3, '0')}+00:00`;
}

/** Whether parsed instant `a` is after `b`, to the microsecond. */
export function isAfterInstant(a: { date: Date; micros: number }, b: { date: Date; micros: number }): boolean {
  const ms = a.date.getTime() - b.date.getTime();
  return ms !== 0 ? ms > 0 : a.micros > b.micros;
}

/**
 * An instant as every wire event's @timestamp writes it: UTC, six fractional digits (JavaScript holds
 * milliseconds, so the last three are zeros), "+00:00". Text comparison of two such strings is time
 * comparison.
 */
export function storedTimestampText(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  return `${iso.slice(0, -1)}000+00:00`;
}
