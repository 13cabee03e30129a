/**
 * Who makes configuration changes, as the trail names them (browser-safe: the dashboard's Activity
 * page reads the same labels as the events' summaries).
 *
 * - `api_key`: `key_` + the first 16 hex characters of the key's SHA-256;
 * - `dashboard_session`: `ses_` + the first 16 hex characters of the session token's SHA-256;
 * - `cli`: `cli_` + the first 16 hex characters of the SHA-256 of "<OS user>@<host>" (cli/actor.ts):
 *   the command line has no key or session, and who ran it where is what an auditor asks.
 */
export type TrailActorType = 'api_key' | 'dashboard_session' | 'cli';

/** How summaries and the dashboard name each kind of actor. */
export const ACTOR_LABEL: Record<TrailActorType, string> = { api_key: 'API key', dashboard_session: 'Dashboard session', cli: 'Command line' };
