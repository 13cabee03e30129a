import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino must never print. Credentials should never reach a log call in the first place; this is
 * the second line of defence for a request body or header object logged by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'auth_header_value',
  '*.auth_header_value',
  'body.auth_header_value',
  'signing_secret',
  '*.signing_secret',
  'client_secret',
  '*.client_secret',
  'body.auth.client_secret',
  '*.body.auth.client_secret',
  'access_token',
  '*.access_token',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  'input',
  '*.input',
  // A destination filter is configuration, yet it may name people (aegis.actor_id): never printed.
  'filter',
  'body.filter',
  '*.body.filter',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts: LoggerOptions = {
    level,
    base: { service: 'aegis-audit-stream' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}

export type { Logger };
