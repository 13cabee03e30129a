#!/usr/bin/env -S node --max-old-space-size=160
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ConfigError, envVarsHelp, loadConfig, type Role } from '../config/env.js';
import { migrate } from '../db/migrate.js';
import { openDatabase, DatabaseBusyError } from '../db/open.js';
import { createOrg, getOrg } from '../orgs/repository.js';
import { checkOrgName } from '../orgs/name.js';
import type { Queryable } from '../db/types.js';
import { createApiKey, listApiKeys } from '../auth/apiKeys.js';
import { revokeApiKey } from '../auth/revoke.js';
import { createLoginLink, endSessions } from '../auth/sessions.js';
import { CliError, cliLogger, withDatabase } from './database.js';
import { VERSION } from '../version.js';
import { AppError } from '../errors.js';
import type { Service } from '../service.js';
import type { Logger } from '../logger.js';
import { describeStartError, inspectRedacted, startErrorContext } from './startErrors.js';

// Each command imports what it needs when it runs: the service (HTTP server, worker, dashboard) and the
// event validator take seconds to load on a busy machine, which `orgs create` or `--version` should
// not pay.
const program = new Command();
program
  .name('aegis-stream')
  .description('Aegis Audit Stream: forward every audit event to your SIEM.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('start')
  .description('Start the service (API, dashboard and worker by default). Configuration comes from environment variables; see README.md.')
  .addOption(new Option('--role <role>', 'which part to run').choices(['api', 'worker', 'all']).default('all'))
  .addHelpText('after', `\nEnvironment variables (details: docs/configuration.md):\n${envVarsHelp()}`)
  .action(async (opts: { role: Role }) => {
    const config = loadConfig();
    // Handled from here on, not once the service has started: a signal's default action kills the
    // process at any instruction, e.g. between creating the first API key and printing it (service.ts).
    // One during start-up stops the start (StartOptions.signal); once started, the service stops cleanly.
    let service: Service | null = null;
    let logger: Logger | null = null;
    let stopSignal: NodeJS.Signals | null = null;
    const starting = new AbortController();
    const stop = (signal: NodeJS.Signals, s: Service) => {
      s.logger.info({ signal }, `stopping: no new claims; finishing in-flight deliveries (send ${signal} again to exit at once)`);
      // Said when done: an operator reading the log knows the stop finished, no second signal needed.
      void s.stop().then(() => {
        s.logger.info({ signal }, 'stopped cleanly: in-flight deliveries finished and settled');
        process.exit(0);
      });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopSignal) {
        // Nothing is lost by not waiting: delivery is at least once, and a job this process claimed
        // is claimed again by a worker once its lease (AEGIS_LEASE_S) ends, then sent again.
        if (service) logger?.warn({ signal }, 'stopped without waiting for in-flight deliveries; their jobs are sent again after their lease ends');
        else logger?.warn({ signal }, 'stopped during start-up without waiting for it to close what it opened');
        process.exit(signalExitCode(signal));
      }
      stopSignal = signal;
      if (service) stop(signal, service);
      else {
        logger?.info({ signal }, `stopping the start-up: nothing more is started (send ${signal} again to exit at once)`);
        starting.abort();
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const [{ startService, StartInterrupted }, { createLogger }] = await Promise.all([import('../service.js'), import('../logger.js')]);
    logger = createLogger(config.logLevel);
    try {
      service = await startService(config, { role: opts.role, banner: true, logger, signal: starting.signal, env: process.env });
    } catch (err) {
      if (!(err instanceof StartInterrupted) || !stopSignal) throw err;
      console.error(`aegis-stream: ${err.message}`);
      process.exit(signalExitCode(stopSignal));
    }
    if (stopSignal) stop(stopSignal, service);
  });

/** What a shell reports for a process its signal ended: 128 + the signal's number. */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : 15);
}

program
  .command('migrate')
  .description('Apply pending database migrations and exit (safe to run from several processes at once).')
  .action(async () => {
    const config = loadConfig();
    const logger = cliLogger(config);
    const db = await openDatabase(config, logger, undefined, 'command').catch((err: unknown) => {
      throw err instanceof DatabaseBusyError ? new CliError(err.message) : err;
    });
    try {
      const applied = await migrate(db, { logger });
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    } finally {
      await db.close();
    }
  });

const orgs = program.command('orgs').description('Manage organizations.');
orgs
  .command('create')
  .description('Create an organization and print its id.')
  .requiredOption('--name <name>', 'display name')
  .action(async (opts: { name: string }) => {
    const checked = checkOrgName(opts.name);
    if ('problem' in checked) throw new CliError(`--name ${checked.problem}`);
    // The first command on a new installation may be this one: it creates the embedded database.
    await withDatabase(async (db) => console.log((await createOrg(db, checked.name)).id), { create: true });
  });

/** Refuses a command for an organization that does not exist, saying how to create one. */
async function requireOrg(db: Queryable, orgId: string): Promise<void> {
  if (!(await getOrg(db, orgId))) throw new CliError(`No organization ${orgId}. Create one with: aegis-stream orgs create --name <name>`);
}

const apiKeys = program.command('api-keys').description('Manage API keys.');
apiKeys
  .command('create')
  .description('Create an API key for an organization and print it once (only its hash is stored).')
  .requiredOption('--org <org_id>', 'organization id')
  .action(async (opts: { org: string }) => {
    await withDatabase(async (db) => {
      await requireOrg(db, opts.org);
      console.log(await createApiKey(db, opts.org));
    });
  });
apiKeys
  .command('list')
  .description("List an organization's API keys by id (key_ and the first 16 hex digits of the key's SHA-256, as the trail names them) and creation time.")
  .requiredOption('--org <org_id>', 'organization id')
  .action(async (opts: { org: string }) => {
    await withDatabase(async (db) => {
      await requireOrg(db, opts.org);
      for (const k of await listApiKeys(db, opts.org)) console.log(`${k.keyId}  created ${k.createdAt.toISOString()}`);
    });
  });
apiKeys
  .command('revoke')
  .description(
    'Revoke an API key at once, named by its id (from list or the trail) or by the key itself, with the sign-in links it made and the dashboard sessions they opened. A key set by AEGIS_BOOTSTRAP_API_KEY comes back at the next start: change that variable too.',
  )
  .requiredOption('--org <org_id>', 'organization id')
  .argument('<key>', 'key_<16 hex digits>, or the key')
  .action(async (key: string, opts: { org: string }) => {
    await withDatabase(async (db) => {
      await requireOrg(db, opts.org);
      const revoked = await revokeApiKey(db, opts.org, key);
      if (!revoked) throw new CliError(`Organization ${opts.org} has no such API key (see: aegis-stream api-keys list --org ${opts.org}).`);
      const ended = [
        revoked.sessions > 0 ? `ended ${revoked.sessions} dashboard session${revoked.sessions === 1 ? '' : 's'}` : null,
        revoked.loginLinks > 0 ? `deleted ${revoked.loginLinks} unused sign-in link${revoked.loginLinks === 1 ? '' : 's'}` : null,
      ].filter((x) => x !== null);
      console.log(`Revoked ${revoked.keyId}${ended.length > 0 ? `; ${ended.join(' and ')} it had made` : ''}.`);
    });
  });

program
  .command('sessions')
  .description('Manage dashboard sessions.')
  .command('end')
  .description('End every dashboard session of an organization, and its sign-in links not yet used: each browser signed in to it must use a new sign-in link.')
  .requiredOption('--org <org_id>', 'organization id')
  .action(async (opts: { org: string }) => {
    await withDatabase(async (db) => {
      await requireOrg(db, opts.org);
      console.log(`Ended ${await endSessions(db, opts.org)} session(s).`);
    });
  });

program
  .command('login-link')
  .description('Print a one-time dashboard sign-in URL (valid 15 minutes).')
  .requiredOption('--org <org_id>', 'organization id')
  .action(async (opts: { org: string }) => {
    await withDatabase(async (db, config) => {
      if (!(await getOrg(db, opts.org))) throw new CliError(`No organization ${opts.org}.`);
      console.log(await createLoginLink(db, opts.org, config.publicUrl));
      // Built from this command's HOST and PORT, which need not be the service's: a service on
      // another port got a link to nothing, without a word.
      if (!process.env.AEGIS_PUBLIC_URL?.trim()) {
        console.error(
          `The link starts with ${config.publicUrl} (HOST and PORT of this command's environment); where the service runs with others, set AEGIS_PUBLIC_URL as it has it.`,
        );
      }
    });
  });

program
  .command('rotate-encryption-key')
  .description(
    "Re-encrypt every stored credential with the first key of AEGIS_ENCRYPTION_KEY. Put the new key first, keep the old one after it, run this, then drop the old key. On the embedded default without AEGIS_ENCRYPTION_KEY, a new key is generated into the data directory first. Each organization's configuration trail records it (encryption_key_rotated, by cli_<16 hex> of your user and host).",
  )
  .action(async () => {
    const [{ rotateEncryptionKeyReport, rotationSummary }, { cliActor, cliUserAtHost }] = await Promise.all([import('./rotateKey.js'), import('./actor.js')]);
    const who = cliUserAtHost();
    const actor = cliActor(who);
    await withDatabase(async (db, config) => {
      const summary = rotationSummary(await rotateEncryptionKeyReport(db, config, false, actor), actor.id, who);
      console.log(summary.out);
      // Only when a trail record was written: nothing to re-encrypt writes none.
      if (summary.trail) console.error(summary.trail);
    });
  });

program
  .command('replay')
  .description(
    "Put a destination's dead-lettered events back in the queue, or with --from and --to queue every recorded event of that time window for it (trimmed to what the SIEM accepts; events AEGIS_RETENTION_DAYS removed, counted from when they were recorded, are gone). Recorded in the configuration trail as replay_requested, by cli_<16 hex> of your user and host.",
  )
  .requiredOption('--destination <destination_id>', 'destination id (fwd_...)')
  .option('--from <time>', 'start of the window (RFC 3339, inclusive); needs --to')
  .option('--to <time>', 'end of the window (RFC 3339, exclusive); needs --from')
  .option('--no-wait', 'a window larger than one batch: leave it to the worker processes and exit after printing its replay id')
  .action(async (opts: { destination: string; from?: string; to?: string; wait: boolean }) => {
    const [{ replayDestination }, { parseTimeOption }, { cliActor, cliUserAtHost }] = await Promise.all([
      import('./replay.js'),
      import('./export.js'),
      import('./actor.js'),
    ]);
    if ((opts.from === undefined) !== (opts.to === undefined))
      throw new CliError(opts.from === undefined ? '--from is required with --to' : '--to is required with --from');
    const window =
      opts.from !== undefined && opts.to !== undefined ? { from: parseTimeOption('--from', opts.from), to: parseTimeOption('--to', opts.to) } : null;
    const who = cliUserAtHost();
    const actor = cliActor(who);
    await withDatabase(async (db, config) => {
      const { replayed, replay_id } = await replayDestination(db, opts.destination, window ? { ...window, config, wait: opts.wait } : null, actor);
      console.error(`Recorded in the configuration trail as replay_requested by ${actor.id} (${who}).`);
      if (replay_id && !opts.wait) console.log(`Range replay ${replay_id} accepted (${replayed} event(s) queued so far); the worker processes queue the rest.`);
      else console.log(`Replayed ${replayed} event(s); the worker will deliver them.`);
    });
  });

program
  .command('export')
  .description(
    "Write an organization's recorded events (by @timestamp) to stdout as NDJSON, one wire event per line, exactly as a webhook destination receives them.",
  )
  .requiredOption('--org <org_id>', 'organization id')
  .requiredOption('--since <time>', 'first @timestamp to include (RFC 3339, inclusive)')
  .option('--until <time>', 'end of the window (RFC 3339, exclusive; default: no end)')
  .addHelpText('after', '\nExample (the last day): aegis-stream export --org org_... --since "$(date -u -d \'1 day ago\' +%FT%TZ)" > events.ndjson')
  .action(async (opts: { org: string; since: string; until?: string }) => {
    // Piped into `head` and the like: a closed stdout ends the export quietly, not with a stack trace.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw new CliError(`stdout: ${err.message}`);
    });
    const { exportEvents } = await import('./export.js');
    await withDatabase(async (db) => {
      await exportEvents(db, opts);
    });
  });

program
  .command('validate-event')
  .summary('Validate ECS or OCSF events (or a captured SIEM request body) against their schema.')
  .description(
    'Validate events as a destination receives them: ECS events against the published schema (schemas/audit-event.schema.json, schemas/config-change-event.schema.json), OCSF events (format "ocsf") against the OCSF 1.8.0 class they claim (schemas/ocsf-1.8.0: Data Security Finding 2006, Entity Management 3004). FILE holds JSON, a JSON array or NDJSON, or a captured SIEM request body (Splunk HEC, Datadog, Elastic _bulk, New Relic, Sentinel); - reads stdin.',
  )
  .argument('<file>', 'path, or - for stdin')
  .action(async (file: string) => {
    const text = file === '-' ? await readStdin() : await readInput(file);
    const { validateEventsText } = await import('../events/validateText.js');
    const results = validateEventsText(text);
    const envelopes = [...new Set(results.map((r) => r.envelope).filter((e) => e !== undefined))];
    for (const e of envelopes) console.log(`recognised ${e} envelopes: validating the events inside them`);
    // What each event was read as, grouped: "3 event(s) read as OCSF 1.8.0 from Splunk HEC envelopes".
    const readAs = new Map<string, number>();
    for (const r of results) {
      if (!r.format) continue;
      const what = `${r.format === 'ocsf' ? 'OCSF 1.8.0' : 'ECS'}${r.envelope ? ` from ${r.envelope} envelopes` : ''}`;
      readAs.set(what, (readAs.get(what) ?? 0) + 1);
    }
    for (const [what, n] of readAs) console.log(`${n} event(s) read as ${what}`);
    let bad = 0;
    for (const r of results) {
      if (r.violations.length === 0) continue;
      bad++;
      for (const v of r.violations) console.log(`event ${r.index}: ${v.path || '/'}: ${v.message}`);
    }
    console.log(`${results.length - bad} valid, ${bad} invalid`);
    if (bad > 0 || results.length === 0) process.exitCode = 1;
  });

/** A file's text, or a one-line CliError saying why it cannot be read (no stack trace for a typo). */
async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot be read (${code ?? 'unknown error'})`;
    throw new CliError(`${file}: ${why}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  // AppError: a refusal shared with the API (e.g. a replay window), whose message is meant for the user.
  if (err instanceof ConfigError || err instanceof CliError || err instanceof DatabaseBusyError || err instanceof AppError) {
    console.error(`aegis-stream: ${err.message}`);
  } else {
    const ctx = startErrorContext(process.env);
    const line = describeStartError(err, ctx);
    if (line === null) console.error(`aegis-stream: unexpected error: ${inspectRedacted(err, ctx)}`);
    else {
      console.error(`aegis-stream: ${line}`);
      // The whole error (stack, every field) for whoever debugs the connection.
      if (/^(debug|trace)$/i.test(process.env.AEGIS_LOG_LEVEL?.trim() ?? '')) console.error(inspectRedacted(err, ctx));
    }
  }
  process.exit(1);
});
