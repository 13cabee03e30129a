// Turns the errors an operator causes at start (a database that cannot be reached or refuses the login,
// a port in use, a data directory that cannot be written) into one line naming the setting to check,
// as ConfigError does for a bad value. Anything not recognised here is a bug and keeps its stack trace.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { inspect } from 'node:util';
import { connectionTarget } from '../db/connectionString.js';

/** What the lines may name, read from the raw environment (the config may be the thing that failed). */
export interface StartErrorContext {
  databaseUrl: string | null;
  dataDir: string;
  host: string | null;
}

export function startErrorContext(env: NodeJS.ProcessEnv): StartErrorContext {
  const value = (name: string) => env[name]?.trim() || null;
  return { databaseUrl: value('DATABASE_URL'), dataDir: value('AEGIS_DATA_DIR') ?? './data', host: value('HOST') };
}

interface ErrorLike {
  name?: unknown;
  errno?: unknown;
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  hostname?: unknown;
  address?: string;
  port?: number | string;
  message?: unknown;
  errors?: unknown;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved (DNS lookup failed)',
  EAI_FAIL: 'the host name could not be resolved (DNS lookup failed)',
};

const SOCKET: Record<string, string> = {
  ENOENT: 'no such socket (is the server running, with this socket directory and port?)',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the socket directory is a file, not a directory',
};

const FILESYSTEM: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'exists and is not a directory',
  ENOSPC: 'no space left on the device',
};

/**
 * The embedded database's file errors: PGlite's file system (Emscripten's) throws an ErrnoError with
 * an errno number of its own (WASI's numbering) and no code or path; printed as it came, a full disk
 * read "unexpected error: ErrnoError { name: 'ErrnoError', errno: 51 }" (an operator's review).
 */
const EMSCRIPTEN_ERRNO: Record<number, keyof typeof FILESYSTEM> = { 2: 'EACCES', 20: 'EEXIST', 51: 'ENOSPC', 54: 'ENOTDIR', 63: 'EPERM', 69: 'EROFS' };

// pg's own messages (no SQLSTATE): the TLS handshake refused, its connect timeout, a closed socket.
const PG_MESSAGES: Array<[RegExp, string]> = [
  [/does not support SSL connections/i, 'the server does not support SSL connections, but DATABASE_URL asks for SSL (sslmode)'],
  [/timeout exceeded when trying to connect|connection timeout/i, 'connection timed out'],
  [/Connection terminated unexpectedly/i, 'the server closed the connection'],
];

// Node's TLS verification codes: a self-signed, expired or mismatched server certificate.
const TLS_CODE = /CERT|^ERR_TLS_|UNABLE_TO_|SELF_SIGNED/;

/** One line for an error an operator can fix (without "aegis-stream: "), or null for anything else. */
export function describeStartError(err: unknown, ctx: StartErrorContext): string | null {
  if (typeof err !== 'object' || err === null) return null;
  // Node 20 tries every address of a name ("localhost": ::1 and 127.0.0.1) and reports them together.
  const e = (err instanceof AggregateError && typeof (err as ErrorLike).code !== 'string' ? err.errors[0] : err) as ErrorLike | undefined;
  if (!e) return null;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';

  if (e.syscall === 'listen') {
    const where = `${String(e.address ?? ctx.host ?? '')}:${String(e.port ?? '')}`;
    if (code === 'EADDRINUSE') return `port ${String(e.port)} is already in use (PORT): another process listens on ${where}`;
    if (code === 'EACCES') return `no permission to listen on port ${String(e.port)} (PORT): ports below 1024 need privileges; use a higher one`;
    if (code === 'EADDRNOTAVAIL') return `cannot listen on ${String(e.address)} (HOST): not an address of this machine`;
  }
  // HOST that does not resolve fails in getaddrinfo before listen, as a database host name would.
  if (e.syscall === 'getaddrinfo' && typeof e.hostname === 'string' && e.hostname === ctx.host && e.hostname !== databaseHost(ctx)?.host) {
    return `cannot listen on ${e.hostname} (HOST): ${NETWORK[code] ?? code}`;
  }

  // PGlite (PostgreSQL compiled to WebAssembly) aborts when the files it opens are not a whole
  // database: a directory copied while the service ran, a restore that missed files, a damaged
  // pg_control. The bare "RuntimeError: Aborted()" and a WebAssembly stack named neither the
  // directory nor a cause (a disaster-recovery review).
  // Only the bare abort (no reason given): one that names a reason (Aborted(OOM), an assertion) is
  // not said to be the files' fault, so no one restores a backup for it.
  if (ctx.databaseUrl === null && err instanceof WebAssembly.RuntimeError && message.startsWith('Aborted()'))
    return `cannot open the embedded database in ${join(ctx.dataDir, 'pglite')} (AEGIS_DATA_DIR): PGlite stopped reading its files, which look damaged or incomplete (a copy taken while the service ran, or a restore that missed files?); copy it again with the service stopped, or restore a backup taken so`;
  const wasiCode = ctx.databaseUrl === null && e.name === 'ErrnoError' && typeof e.errno === 'number' ? EMSCRIPTEN_ERRNO[e.errno] : undefined;
  if (wasiCode !== undefined) return `cannot use the data directory ${ctx.dataDir} (AEGIS_DATA_DIR): ${join(ctx.dataDir, 'pglite')}: ${FILESYSTEM[wasiCode]}`;
  if (typeof e.path === 'string' && FILESYSTEM[code] && isInside(e.path, ctx.dataDir)) {
    return `cannot use the data directory ${ctx.dataDir} (AEGIS_DATA_DIR): ${e.path}: ${FILESYSTEM[code]}`;
  }
  // Node's recursive mkdir reports ENOENT where the directory above is read-only (EROFS) or cannot be
  // made: the operator's fix is the same, so said as that, not as a missing file.
  if (typeof e.path === 'string' && code === 'ENOENT' && e.syscall === 'mkdir' && isInside(e.path, ctx.dataDir)) {
    return `cannot use the data directory ${ctx.dataDir} (AEGIS_DATA_DIR): ${e.path} cannot be created: the directory above it is read-only or cannot be made`;
  }

  const db = databaseHost(ctx);
  if (!db) return null;
  // A "#", "?" or "/" left unencoded in the password ends the URL's authority inside it: the host and
  // port read from it would be pieces of the password ("postgres://u:12#s3cr3t@db" reads host "u",
  // port "12"), so none is named.
  const at = db.ambiguous
    ? 'PostgreSQL (DATABASE_URL: its password holds an unencoded "#", "?" or "/", so the URL does not read as written; percent-encode them)'
    : db.host.startsWith('/')
      ? `PostgreSQL at unix socket ${db.host.replace(/\/+$/, '')}/.s.PGSQL.${db.port} (DATABASE_URL)`
      : `PostgreSQL at ${db.host}:${db.port} (DATABASE_URL)`;
  // Nothing else opens a connection while a command or the service starts: a network error is the database's.
  if (NETWORK[code]) return `cannot reach ${at}: ${NETWORK[code]}`;
  // Connecting to a unix socket: no socket file in that directory for that port, or one not ours to use.
  if (e.syscall === 'connect' && SOCKET[code]) return `cannot reach ${at}: ${SOCKET[code]}`;
  if (TLS_CODE.test(code)) return `cannot verify the TLS certificate of ${at}: ${message || code}`;
  // SQLSTATEs of a login the server refused: its message names the user or database, never the password.
  if (/^(28|3D|08)/.test(code) || code === '53300' || code === '57P03') return `${at} refused the connection: ${message} (SQLSTATE ${code})`;
  // The server ended the session while the start ran (a restart or failover, often during a rolling
  // upgrade's migration): the migrations run in one transaction, so nothing half-done is left.
  if (code === '57P01' || code === '57P02')
    return `${at} ended the connection during start: ${message} (SQLSTATE ${code}); nothing was half applied, start again once the server is back`;
  // A standby, or a server set read-only, at the address (a failover in progress, a restart of the
  // service while a managed database is read-only): the start's migration check is a write. A pod
  // restarted then must say so in one line, not dump a stack that reads as a bug.
  if (code === '25006')
    return `${at} accepts no writes: ${message} (SQLSTATE 25006): it is a standby or set read-only (default_transaction_read_only); point DATABASE_URL at the primary, or start again once the server takes writes`;
  for (const [re, line] of PG_MESSAGES) if (re.test(message)) return `cannot use ${at}: ${line}`;
  return null;
}

/** The full error as inspect prints it, with the password of DATABASE_URL blotted out. */
export function inspectRedacted(err: unknown, ctx: StartErrorContext): string {
  return redactPassword(inspect(err), ctx.databaseUrl);
}

export function redactPassword(text: string, databaseUrl: string | null): string {
  const db = databaseHost({ databaseUrl, dataDir: '', host: null });
  // As written, and each piece an unencoded "#", "?" or "/" cut it into (the parser read those as host, port, path).
  const raw = rawPassword(databaseUrl);
  const forms = [db?.password ?? '', raw ?? '', ...(raw ?? '').split(/[#?/]/).filter((p) => p.length >= 2)];
  let out = text;
  for (const form of new Set(forms.flatMap((f) => [f, safeDecode(f)]))) if (form) out = out.split(form).join('***');
  return out;
}

/** The password as written between "user:" and the URL's last "@", or null. */
function rawPassword(databaseUrl: string | null): string | null {
  const rest = databaseUrl?.split('://')[1];
  const at = rest?.lastIndexOf('@') ?? -1;
  if (!rest || at === -1) return null;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  return colon === -1 ? null : userinfo.slice(colon + 1);
}

/** The host (a socket directory when it starts with "/") and port pg connects to (db/connectionString.ts). */
function databaseHost(ctx: StartErrorContext): { host: string; port: string; password: string; ambiguous: boolean } | null {
  if (!ctx.databaseUrl) return null;
  const ambiguous = /[#?/]/.test(rawPassword(ctx.databaseUrl) ?? '');
  try {
    const { host, port, password } = connectionTarget(ctx.databaseUrl);
    return { host, port: String(port), password, ambiguous };
  } catch {
    return ambiguous ? { host: '', port: '', password: '', ambiguous } : null;
  }
}

/** The path is the directory, inside it, or above it (making the directory fails on a parent). */
function isInside(path: string, dir: string): boolean {
  const below = (a: string, b: string) => {
    const rel = relative(resolve(a), resolve(b));
    return !rel.startsWith('..') && !isAbsolute(rel);
  };
  return below(dir, path) || below(path, dir);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
