// The dashboard's only door to the service. Every request rides on the HttpOnly session cookie
// (same origin); every mutating request echoes the session's CSRF token in x-csrf-token.
// Request and answer types are the server's route schemas (src/api/schemas), imported as types only:
// nothing of the server reaches the browser bundle.
import type { CreateDestinationBody, DestinationView, FilterPreview, PatchDestinationBody, TestResult } from '../../src/api/schemas/destinations.js';
import type {
  Attempt,
  AttemptsPage,
  AttemptsQuery,
  Deleted,
  DestinationsPage,
  FailedEvent,
  FailedEventsPage,
  HourStat,
  StatsPage,
} from '../../src/api/schemas/destinationReads.js';
import type { NotificationSettingsView, PutNotificationSettingsBody } from '../../src/api/schemas/notifications.js';
import { describePath, type Violation } from '../../src/events/violation.js';
import type { ActivityEntry, ActivityPage } from '../../src/api/schemas/activity.js';
import type { RangeReplayResult, ReplayDoneView, ReplayView } from '../../src/api/schemas/replays.js';
import type { SessionView } from '../../src/api/schemas/session.js';

export type Destination = DestinationView;
export type { TestResult, FailedEvent, HourStat, Attempt, RangeReplayResult };
export type Replay = ReplayView;
export type NotificationSettings = NotificationSettingsView;
export type { ActivityEntry, ActivityPage };
export type Session = SessionView;
export type CreateBody = CreateDestinationBody;
export type PatchBody = PatchDestinationBody;

/** The delivery log's filters; `limit` is a number here and text on the wire (query strings). */
export type AttemptQuery = Omit<AttemptsQuery, 'limit'> & { limit?: number };

/** What the page reads for each card in one request per page of destinations (GET …/stats). */
export type CardStats = Omit<StatsPage['stats'][number], 'destination_id'>;

/** One problem of a refusal: where (a JSON pointer, "/emails/0") and what; the API's own Violation. */
export type ApiProblem = Violation;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Every problem of a validation refusal; the message names the first only. */
    readonly details: readonly ApiProblem[] = [],
  ) {
    super(message);
  }
}

let csrfToken = '';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `Request failed (HTTP ${res.status}).`, problemsOf(err?.details));
  }
  return parsed as T;
}

/**
 * Whether a failed request means "not signed in": the sign-in page says what to do then. Not when the
 * browser sent the session cookie twice (one set by another host of the domain): a new link alone
 * does not help, and the page shows the API's message, which says what does.
 */
export function signedOutBy(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401 && e.code !== 'session_conflict';
}

export async function getSession(): Promise<Session | null> {
  try {
    const s = await call<Session>('GET', '/api/session');
    csrfToken = s.csrf_token;
    return s;
  } catch (e) {
    if (signedOutBy(e)) return null;
    throw e;
  }
}

export async function logout(): Promise<void> {
  await call<void>('POST', '/api/session/logout');
  csrfToken = '';
}

const PAGE = 500;
function page<T>(path: string, cursor: string | null): Promise<T & { next_cursor: string | null }> {
  return call<T & { next_cursor: string | null }>('GET', `${path}?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
}
async function allPages<T>(fetchPage: (cursor: string | null) => Promise<{ items: T[]; next: string | null }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const p = await fetchPage(cursor);
    out.push(...p.items);
    cursor = p.next;
  } while (cursor);
  return out;
}

export function destinationsApi(orgId: string) {
  const base = `/api/orgs/${encodeURIComponent(orgId)}/forwarding-destinations`;
  const one = (id: string) => `${base}/${encodeURIComponent(id)}`;
  return {
    /** Every destination of the organization, a page (of up to 500) at a time. */
    list: () => allPages<Destination>((cursor) => page<DestinationsPage>(base, cursor).then((p) => ({ items: p.destinations, next: p.next_cursor }))),
    /** Every card's chart and running replay in one request per page of 500 destinations, not requests per card. */
    allStats: async () =>
      new Map(
        (await allPages((cursor) => page<StatsPage>(`${base}/stats`, cursor).then((p) => ({ items: p.stats, next: p.next_cursor })))).map(
          (s): [string, CardStats] => [s.destination_id, { hours: s.hours, running_replay_id: s.running_replay_id }],
        ),
      ),
    get: (id: string) => call<Destination>('GET', one(id)),
    create: (body: CreateBody) => call<Destination>('POST', base, body),
    patch: (id: string, body: PatchBody) => call<Destination>('PATCH', one(id), body),
    remove: (id: string) => call<Deleted>('DELETE', one(id)),
    test: (id: string) => call<TestResult>('POST', `${one(id)}/test`),
    failedEvents: (id: string) => call<FailedEventsPage>('GET', `${one(id)}/failed-events?limit=100`),
    replay: (id: string) => call<ReplayDoneView>('POST', `${one(id)}/replay`, {}),
    replayRange: (id: string, from: Date, to: Date) => call<RangeReplayResult>('POST', `${one(id)}/replay`, { from: from.toISOString(), to: to.toISOString() }),
    getReplay: (id: string, replayId: string) => call<Replay>('GET', `${one(id)}/replays/${encodeURIComponent(replayId)}`),
    cancelReplay: (id: string, replayId: string) => call<Replay>('POST', `${one(id)}/replays/${encodeURIComponent(replayId)}/cancel`),
    attempts: (id: string, q: AttemptQuery) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
      const qs = params.toString();
      return call<AttemptsPage>('GET', `${one(id)}/attempts${qs ? `?${qs}` : ''}`);
    },
    previewFilter: (filter: Record<string, unknown> | null) => call<FilterPreview>('POST', `${base}/filter-preview`, { filter }),
  };
}

export type DestinationsApi = ReturnType<typeof destinationsApi>;

/** A refusal's details as the API sends them, each kept only when it has the declared shape. */
function problemsOf(details: unknown): ApiProblem[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is ApiProblem => typeof d === 'object' && d !== null && typeof (d as ApiProblem).path === 'string' && typeof (d as ApiProblem).message === 'string',
  );
}

/**
 * What a form shows for a failed request. A refusal with several problems lists each (the API's
 * message names the first and points at error.details, which a dashboard user cannot see).
 */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.details.length <= 1) return e.message;
    const listed = e.details.map((d) => `${describePath(d.path)}: ${d.message}`).join('; ');
    // The API lists the first problems only; its message says when more follow.
    return /more problems follow/.test(e.message) ? `${listed}; and more` : listed;
  }
  if (e instanceof Error) return `Could not reach the service: ${e.message}`;
  return 'Something went wrong.';
}

export function notificationsApi(orgId: string) {
  const path = `/api/orgs/${encodeURIComponent(orgId)}/notification-settings`;
  return {
    get: () => call<NotificationSettingsView>('GET', path),
    put: (body: PutNotificationSettingsBody) => call<NotificationSettingsView>('PUT', path, body),
  };
}

/** The configuration trail (docs/trail.md), newest first. */
export function activityApi(orgId: string) {
  const path = `/api/orgs/${encodeURIComponent(orgId)}/activity`;
  return {
    page: (cursor: string | null) => call<ActivityPage>('GET', cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : path),
  };
}
