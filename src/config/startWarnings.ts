import { unknownSettings, type Config, type Role } from './env.js';

/** A setting the service starts with but that the operator should hear about: one warning line. */
export interface StartWarning {
  fields?: Record<string, unknown>;
  message: string;
}

/**
 * What a start logs as warnings about its configuration: settings that are allowed (every role
 * starts, development needs private addresses, mail may go anywhere) but that do not do what an
 * operator may think, or open something a shared service should close. `embeddedDb`: the process
 * opens the embedded database (no DATABASE_URL and no database given). `env`: the environment the
 * configuration was read from, for names that are no setting (a misspelling keeps the default).
 */
export function startWarnings(config: Config, role: Role, embeddedDb: boolean, env: Readonly<Record<string, string | undefined>> = {}): StartWarning[] {
  const out: StartWarning[] = [];
  for (const { name, nearest } of unknownSettings(env)) {
    out.push({
      message: `${name} is not a setting of this service and is ignored${nearest ? `: did you mean ${nearest}?` : ''} (aegis-stream start --help lists them)`,
    });
  }
  if (role !== 'all' && embeddedDb) {
    // Said loudly, not refused (every role starts and serves its health endpoints, as the contract
    // has it): one process at a time opens the embedded database, so an api process's events wait for
    // a worker that can never attach, and a worker alone delivers only what nothing can record.
    out.push({
      fields: { role },
      message: `--role ${role} without DATABASE_URL: the embedded database opens in one process only, so no ${role === 'api' ? 'worker can deliver the events this process records' : 'api process can record events for this worker'}. Set DATABASE_URL to a PostgreSQL server, or start without --role (api and worker in one process)`,
    });
  }
  if (config.allowPrivateDestinations) {
    out.push({
      message:
        'AEGIS_ALLOW_PRIVATE_DESTINATIONS=1: http:// URLs and loopback/private addresses are allowed as destinations. Use this for development and tests only.',
    });
  }
  if (config.alerts.smtpUrl !== null && config.alerts.emailDomains === null) {
    // The default is kept (a single-company install mails its own people), but alert mail carries
    // text a tenant shapes from the operator's server and domain: a shared service should limit it.
    out.push({
      message:
        'AEGIS_SMTP_URL is set and AEGIS_ALERT_EMAIL_DOMAINS is not: any organization may have alert e-mails sent from your mail server to any address. Where organizations you do not control use the service, set AEGIS_ALERT_EMAIL_DOMAINS to the domains alerts may go to.',
    });
  }
  return out;
}
