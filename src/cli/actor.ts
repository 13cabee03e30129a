import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { TrailActor } from '../trail/contract.js';

/**
 * Who is running this command, as the configuration trail records it: "<OS user>@<host>". A command
 * line has no API key or session; the account and machine it ran on are what an auditor follows up.
 */
export function cliUserAtHost(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container user without a passwd entry: the environment's name, else the numeric uid.
    user = process.env.USER ?? process.env.LOGNAME ?? `uid${process.getuid?.() ?? 'unknown'}`;
  }
  return `${user}@${hostname()}`;
}

/**
 * `cli_` + the first 16 hex characters of the SHA-256 of "<OS user>@<host>" (docs/trail.md): a fixed
 * form like the API key and session ids, so the events forwarded to every SIEM carry no account or
 * host name; the operator prints it (`aegis-stream replay` says it) and anyone can recompute it with
 * `printf %s "$USER@$(hostname)" | sha256sum | cut -c1-16`.
 */
export function cliActor(userAtHost: string = cliUserAtHost()): TrailActor {
  return { type: 'cli', id: `cli_${createHash('sha256').update(userAtHost, 'utf8').digest('hex').slice(0, 16)}` };
}
